"""Deterministic synthetic fashion dataset: dressed figures over photo and procedural backgrounds.

Label maps use 0 for background, k + 1 for garment category k (0-9: shirt, top, sweater, jacket,
pants, skirt, dress, shoe, bag, hat) and 11 for the person outside garments (skin, hair, scarf, belt).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from skimage.measure import find_contours, points_in_poly
from tqdm import tqdm

from .errors import ConfigError
from .fileio import write_json, write_text

_logger = logging.getLogger(__name__)

STYLE_NAMES = (
    "conservative",
    "dressy",
    "ethnic",
    "fairy",
    "feminine",
    "gal",
    "girlish",
    "kireime-casual",
    "lolita",
    "mode",
    "natural",
    "retro",
    "rock",
    "street",
)

# Pairs of name and Fashionpedia supercategory. The list index is the category id.
CATEGORIES = (
    ("shirt", "upperbody"),
    ("top", "upperbody"),
    ("sweater", "upperbody"),
    ("jacket", "upperbody"),
    ("pants", "lowerbody"),
    ("skirt", "lowerbody"),
    ("dress", "wholebody"),
    ("shoe", "legs and feet"),
    ("bag", "others"),
    ("hat", "head"),
)
BACKGROUND_LABEL = 0
PERSON_LABEL = len(CATEGORIES) + 1

# Pairs of name and supercategory. The list index is the attribute id.
ATTRIBUTES = (
    ("plain (pattern)", "textile pattern"),
    ("stripe", "textile pattern"),
    ("check", "textile pattern"),
    ("dot", "textile pattern"),
    ("floral", "textile pattern"),
    ("camouflage", "textile pattern"),
    ("mini (length)", "length"),
    ("knee (length)", "length"),
    ("midi", "length"),
    ("maxi (length)", "length"),
    ("tight (fit)", "silhouette"),
    ("regular (fit)", "silhouette"),
    ("loose (fit)", "silhouette"),
    ("sleeveless", "length"),
    ("short (length)", "length"),
    ("wrist-length", "length"),
)
_ATTRIBUTE_IDS = {name: index for index, (name, _) in enumerate(ATTRIBUTES)}
_PATTERN_ATTRIBUTE = {
    "plain": "plain (pattern)",
    "stripe": "stripe",
    "check": "check",
    "dot": "dot",
    "floral": "floral",
    "camouflage": "camouflage",
}

PHOTO_FAMILIES = {
    "astronaut": "astronaut",
    "coffee": "coffee",
    "chelsea": "chelsea",
    "brick": "brick",
    "camera": "camera",
    "grass": "grass",
    "coins": "coins",
    "immunohistochemistry": "immunohistochemistry",
    "gravel": "gravel",
    "hubble_deep_field": "hubble_deep_field",
    "motorcycle": "stereo_motorcycle",
    "rocket": "rocket",
}

# Procedural and photo families alternate, so the first styles get a mix of both kinds.
BACKGROUND_FAMILIES = (
    "studio",
    "astronaut",
    "room",
    "coffee",
    "street",
    "chelsea",
    "noise",
    "brick",
    "bokeh",
    "camera",
    "grass",
    "coins",
    "immunohistochemistry",
    "gravel",
    "hubble_deep_field",
    "motorcycle",
    "rocket",
)

DEFAULT_SPLIT = (0.5, 0.1, 0.4)
SPLIT_NAMES = ("train", "val", "test")

# Probability that one group of choices (silhouettes, palette, patterns, shoes, accessories, hair)
# comes from another randomly chosen style, so that classes overlap.
STYLE_MIX = 0.12

SUPERSAMPLE = 3  # figures are drawn at this multiple of the output size, then box-filtered
MIN_INSTANCE_AREA = 16  # pixels, because smaller visible garment parts get no annotation

_MAX_IMAGES = 99_999  # image ids have five digits


def background_family(style_index: int) -> str:
    """Return the background family that images of a style use when background_bias picks it."""
    return BACKGROUND_FAMILIES[style_index % len(BACKGROUND_FAMILIES)]


# ----------------------------------------------------------------------------------------------
# Styles


@dataclass(frozen=True)
class StyleSpec:
    """Weighted garment, palette and accessory choices that define one style."""

    dress: float  # probability of a dress in place of separates
    dresses: Mapping[str, float]
    uppers: Mapping[str, float]
    outer: float  # probability of a jacket or cardigan over the top or dress
    outers: Mapping[str, float]
    lowers: Mapping[str, float]
    palette: tuple[str, ...]
    patterns: Mapping[str, float]
    shoes: Mapping[str, float]
    bag: float
    bags: Mapping[str, float]
    hat: float
    hats: Mapping[str, float]
    scarf: float
    belt: float
    hair: Mapping[str, float]
    tan: float = 0.0  # shift of the skin tone choice towards darker tones, 0-1
    tights: float = 0.0  # probability of dark or white tights in place of bare legs


STYLES: dict[str, StyleSpec] = {
    "conservative": StyleSpec(
        dress=0.2,
        dresses={"sheath": 1},
        uppers={"shirt": 3, "sweater": 1, "blouse": 1},
        outer=0.6,
        outers={"blazer": 3, "coat": 1, "cardigan": 1},
        lowers={"slacks": 3, "aline": 2, "pleated": 1},
        palette=("#1e2850", "#3c3c41", "#828287", "#c8b9a0", "#f0f0eb", "#b48c5a", "#6e1e28"),
        patterns={"plain": 6, "stripe": 2, "check": 1},
        shoes={"flats": 2, "pumps": 2},
        bag=0.6,
        bags={"handbag": 1, "tote": 1},
        hat=0.05,
        hats={"fedora": 1},
        scarf=0.2,
        belt=0.3,
        hair={"short": 1, "bob": 1, "tied": 1},
    ),
    "dressy": StyleSpec(
        dress=0.75,
        dresses={"sheath": 2, "maxi": 2, "aline": 1},
        uppers={"blouse": 1, "tank": 1},
        outer=0.2,
        outers={"blazer": 1},
        lowers={"maxi": 1, "pleated": 1, "slacks": 1},
        palette=("#141419", "#961428", "#c8a03c", "#146e50", "#283ca0", "#bebec8"),
        patterns={"plain": 8, "dot": 1},
        shoes={"pumps": 1},
        bag=0.7,
        bags={"clutch": 3, "handbag": 1},
        hat=0.1,
        hats={"fedora": 1, "brim": 1},
        scarf=0.1,
        belt=0.3,
        hair={"long": 1, "tied": 1},
    ),
    "ethnic": StyleSpec(
        dress=0.35,
        dresses={"maxi": 1, "aline": 1},
        uppers={"blouse": 1, "tee": 1, "tank": 1},
        outer=0.3,
        outers={"cardigan": 1, "coat": 1},
        lowers={"maxi": 3, "wide": 2, "pleated": 1},
        palette=("#be5a32", "#28a0a0", "#d2a028", "#323278", "#963c1e", "#ebdcbe", "#6e6e32"),
        patterns={"floral": 3, "stripe": 3, "check": 2, "dot": 1, "camouflage": 1},
        shoes={"flats": 2, "boots": 1},
        bag=0.5,
        bags={"shoulder": 1, "tote": 1},
        hat=0.35,
        hats={"brim": 1},
        scarf=0.5,
        belt=0.3,
        hair={"long": 2, "tied": 1},
    ),
    "fairy": StyleSpec(
        dress=0.7,
        dresses={"maxi": 1, "bell": 1, "aline": 1},
        uppers={"blouse": 1},
        outer=0.2,
        outers={"cardigan": 1},
        lowers={"tutu": 1, "maxi": 1},
        palette=("#beaae6", "#aae6c8", "#f5bed2", "#aad2f5", "#faf0e1", "#d2b4dc"),
        patterns={"plain": 3, "floral": 3, "dot": 1},
        shoes={"flats": 1, "platform": 1},
        bag=0.4,
        bags={"clutch": 1, "shoulder": 1},
        hat=0.3,
        hats={"bow": 1, "brim": 1},
        scarf=0.1,
        belt=0.2,
        hair={"long": 3, "twintails": 1},
    ),
    "feminine": StyleSpec(
        dress=0.5,
        dresses={"aline": 1, "sheath": 1},
        uppers={"blouse": 3, "tee": 1, "sweater": 1},
        outer=0.3,
        outers={"cardigan": 1, "coat": 1},
        lowers={"aline": 3, "pleated": 3, "skinny": 1},
        palette=("#dc8ca0", "#f5ebd7", "#d2aaaa", "#f0f0eb", "#aac8e6", "#c8b9a0", "#822846"),
        patterns={"plain": 4, "floral": 3, "dot": 2},
        shoes={"pumps": 3, "flats": 2},
        bag=0.6,
        bags={"handbag": 1},
        hat=0.1,
        hats={"beret": 1, "brim": 1},
        scarf=0.15,
        belt=0.4,
        hair={"long": 2, "bob": 1},
    ),
    "gal": StyleSpec(
        dress=0.3,
        dresses={"sheath": 1, "slip": 1},
        uppers={"crop": 3, "tank": 2, "tee": 1},
        outer=0.3,
        outers={"leather": 1, "blazer": 1},
        lowers={"mini": 4, "shorts": 3, "skinny": 2},
        palette=("#f0328c", "#f0f0eb", "#141419", "#c89646", "#c8a03c", "#00bec8", "#dc1e28"),
        patterns={"plain": 4, "camouflage": 3, "dot": 1, "stripe": 1},
        shoes={"boots": 3, "pumps": 2, "platform": 1},
        bag=0.6,
        bags={"shoulder": 1, "handbag": 1},
        hat=0.15,
        hats={"cap": 1, "brim": 1},
        scarf=0.05,
        belt=0.3,
        hair={"long": 3, "tied": 1},
        tan=0.5,
    ),
    "girlish": StyleSpec(
        dress=0.4,
        dresses={"aline": 1, "bell": 1},
        uppers={"blouse": 1, "tee": 1, "sweater": 1},
        outer=0.35,
        outers={"cardigan": 1},
        lowers={"mini": 2, "tutu": 2, "aline": 2, "shorts": 1},
        palette=("#f5bed2", "#fae696", "#d2323c", "#f0f0eb", "#1e2850", "#aae6c8"),
        patterns={"check": 3, "dot": 3, "plain": 2, "floral": 1},
        shoes={"flats": 2, "platform": 1, "sneakers": 1},
        bag=0.5,
        bags={"shoulder": 1},
        hat=0.35,
        hats={"beret": 3, "bow": 1},
        scarf=0.1,
        belt=0.2,
        hair={"bob": 2, "twintails": 1, "long": 1},
    ),
    "kireime-casual": StyleSpec(
        dress=0.2,
        dresses={"sheath": 1},
        uppers={"shirt": 3, "tee": 2, "blouse": 2, "sweater": 1},
        outer=0.4,
        outers={"blazer": 1, "coat": 1, "cardigan": 1},
        lowers={"slacks": 3, "skinny": 2, "aline": 2, "wide": 1},
        palette=("#f0f0eb", "#e6d7be", "#aac8e6", "#1e2850", "#969696", "#a0b496"),
        patterns={"plain": 7, "stripe": 2},
        shoes={"flats": 2, "pumps": 2, "sneakers": 1},
        bag=0.6,
        bags={"tote": 1, "handbag": 1},
        hat=0.05,
        hats={"brim": 1},
        scarf=0.15,
        belt=0.3,
        hair={"bob": 1, "long": 1, "tied": 1},
    ),
    "lolita": StyleSpec(
        dress=0.85,
        dresses={"bell": 5, "aline": 1},
        uppers={"blouse": 1},
        outer=0.1,
        outers={"cardigan": 1},
        lowers={"tutu": 1},
        palette=("#141419", "#f5f5f0", "#f5bed2", "#6e1e3c", "#b4c8f0", "#faf0dc"),
        patterns={"plain": 3, "dot": 2, "check": 2, "floral": 2, "stripe": 1},
        shoes={"platform": 4, "flats": 1},
        bag=0.4,
        bags={"handbag": 1, "shoulder": 1},
        hat=0.6,
        hats={"bow": 4, "brim": 1},
        scarf=0.0,
        belt=0.1,
        hair={"long": 2, "twintails": 2},
        tights=0.6,
    ),
    "mode": StyleSpec(
        dress=0.25,
        dresses={"sheath": 1, "maxi": 1},
        uppers={"tee": 1, "shirt": 1, "sweater": 1},
        outer=0.6,
        outers={"coat": 2, "blazer": 2, "leather": 1},
        lowers={"wide": 3, "slacks": 2, "maxi": 1},
        palette=("#141419", "#0f0f0f", "#f5f5f5", "#3c3c41", "#828287", "#e6e1d2"),
        patterns={"plain": 7, "stripe": 2, "check": 1},
        shoes={"boots": 2, "flats": 1, "pumps": 1},
        bag=0.5,
        bags={"tote": 1, "clutch": 1},
        hat=0.2,
        hats={"fedora": 1, "brim": 1},
        scarf=0.2,
        belt=0.2,
        hair={"short": 2, "bob": 1},
    ),
    "natural": StyleSpec(
        dress=0.35,
        dresses={"maxi": 1, "aline": 1},
        uppers={"tee": 2, "sweater": 2, "shirt": 1},
        outer=0.3,
        outers={"cardigan": 2, "coat": 1},
        lowers={"wide": 3, "maxi": 2, "pleated": 1},
        palette=("#dccdaf", "#787846", "#825a3c", "#f0ebdc", "#a0b496", "#b4a578", "#5a6e8c"),
        patterns={"plain": 6, "stripe": 2, "check": 1, "floral": 1},
        shoes={"flats": 3, "sneakers": 2},
        bag=0.6,
        bags={"tote": 3, "shoulder": 1},
        hat=0.25,
        hats={"brim": 1},
        scarf=0.2,
        belt=0.15,
        hair={"long": 1, "tied": 1, "bob": 1},
    ),
    "retro": StyleSpec(
        dress=0.4,
        dresses={"aline": 3, "sheath": 1},
        uppers={"blouse": 2, "sweater": 2, "shirt": 1},
        outer=0.3,
        outers={"cardigan": 1, "blazer": 1},
        lowers={"aline": 3, "pleated": 2, "wide": 2},
        palette=("#d2a028", "#825a3c", "#1e7878", "#dc6e28", "#ebdcbe", "#c83232", "#285032"),
        patterns={"check": 3, "dot": 3, "plain": 2, "stripe": 1, "floral": 1},
        shoes={"pumps": 1, "flats": 1, "boots": 1},
        bag=0.5,
        bags={"handbag": 1},
        hat=0.35,
        hats={"beret": 2, "brim": 1, "fedora": 1},
        scarf=0.3,
        belt=0.4,
        hair={"bob": 1, "tied": 1},
    ),
    "rock": StyleSpec(
        dress=0.15,
        dresses={"sheath": 1, "slip": 1},
        uppers={"tee": 3, "tank": 2, "shirt": 1},
        outer=0.6,
        outers={"leather": 5, "coat": 1},
        lowers={"skinny": 4, "mini": 2, "shorts": 1},
        palette=("#141419", "#0a0a0a", "#780a14", "#3c3c41", "#f0f0f0", "#461e5a", "#b4b4be"),
        patterns={"plain": 5, "stripe": 2, "check": 2, "dot": 1},
        shoes={"boots": 5, "sneakers": 1},
        bag=0.3,
        bags={"shoulder": 1},
        hat=0.2,
        hats={"fedora": 1, "cap": 1},
        scarf=0.1,
        belt=0.5,
        hair={"long": 1, "short": 1},
        tights=0.2,
    ),
    "street": StyleSpec(
        dress=0.05,
        dresses={"sheath": 1},
        uppers={"hoodie": 3, "tee": 3, "sweater": 1},
        outer=0.3,
        outers={"bomber": 1},
        lowers={"wide": 2, "shorts": 2, "skinny": 1, "slacks": 2},
        palette=("#fad200", "#283ca0", "#d2323c", "#141419", "#f0f0f0", "#28a046", "#f08c1e", "#828287"),
        patterns={"plain": 4, "camouflage": 3, "stripe": 2},
        shoes={"sneakers": 6, "boots": 1},
        bag=0.4,
        bags={"shoulder": 1},
        hat=0.5,
        hats={"cap": 4, "beret": 1},
        scarf=0.05,
        belt=0.1,
        hair={"short": 1, "tied": 1},
    ),
}

SKIN_TONES = ("#ffe0c4", "#f1c2a0", "#e0ac82", "#c6865a", "#a06441", "#784b32", "#5a3828")
HAIR_COLORS = ("#191414", "#3c281e", "#6e4628", "#d2b46e", "#8c3c1e", "#2a2420")
NEUTRALS = ("#f5f5f0", "#141419", "#ebdcbe", "#5a5a5f")

# Category, sleeve length, fit and neckline of each upper garment option.
UPPER_OPTIONS = {
    "shirt": dict(category="shirt", sleeve="long", fit="regular", neck="collar"),
    "blouse": dict(category="shirt", sleeve="puff", fit="regular", neck="crew"),
    "tee": dict(category="top", sleeve="short", fit="regular", neck="crew"),
    "tank": dict(category="top", sleeve="none", fit="tight", neck="straps"),
    "crop": dict(category="top", sleeve="short", fit="tight", neck="crew"),
    "sweater": dict(category="sweater", sleeve="long", fit="loose", neck="crew"),
    "hoodie": dict(category="sweater", sleeve="long", fit="loose", neck="hood"),
}
# Category and length (in head units from the head top) of each outer garment option.
OUTER_OPTIONS = {
    "blazer": dict(category="jacket", hem=3.85, closed=0.3),
    "coat": dict(category="jacket", hem=5.4, closed=0.4),
    "leather": dict(category="jacket", hem=3.3, closed=0.2),
    "bomber": dict(category="jacket", hem=3.4, closed=0.5),
    "cardigan": dict(category="sweater", hem=3.9, closed=0.3),
}
# Skirts and pants: hem in head units from the head top, hem half-width or leg width in head units.
LOWER_OPTIONS = {
    "slacks": dict(category="pants", hem=7.45, width=0.46, flare=0.0),
    "skinny": dict(category="pants", hem=7.35, width=0.0, flare=0.0),
    "wide": dict(category="pants", hem=7.55, width=0.6, flare=0.25),
    "shorts": dict(category="pants", hem=4.55, width=0.56, flare=0.05),
    "mini": dict(category="skirt", hem=4.45, width=0.95, flare=0.0),
    "aline": dict(category="skirt", hem=5.55, width=1.15, flare=0.0),
    "pleated": dict(category="skirt", hem=6.3, width=1.2, flare=0.0),
    "maxi": dict(category="skirt", hem=7.35, width=1.3, flare=0.0),
    "tutu": dict(category="skirt", hem=5.3, width=1.6, flare=1.0),
}
DRESS_OPTIONS = {
    "sheath": dict(hem=5.5, width=0.95, sleeve="none", neck="boat", flare=0.0),
    "aline": dict(hem=5.6, width=1.25, sleeve="short", neck="crew", flare=0.0),
    "maxi": dict(hem=7.4, width=1.35, sleeve="none", neck="v", flare=0.0),
    "slip": dict(hem=4.7, width=0.9, sleeve="none", neck="straps", flare=0.0),
    "bell": dict(hem=5.35, width=1.75, sleeve="puff", neck="crew", flare=1.0),
}


# ----------------------------------------------------------------------------------------------
# Parameters


@dataclass(frozen=True)
class DemoParams:
    """Validated generation parameters."""

    styles: int = 8
    images_per_style: int = 50
    width: int = 192
    height: int = 256
    seed: int = 0
    background_bias: float = 0.0
    split: tuple[float, float, float] = DEFAULT_SPLIT

    def to_json(self) -> dict[str, Any]:
        return {
            "styles": self.styles,
            "images_per_style": self.images_per_style,
            "width": self.width,
            "height": self.height,
            "seed": self.seed,
            "background_bias": self.background_bias,
            "split": dict(zip(SPLIT_NAMES, self.split)),
        }


def _check_int(name: str, value: Any, low: int, high: int | None) -> int:
    allowed = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"demo.{name} must be {allowed}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ConfigError(f"demo.{name} must be {allowed}, got {value!r}")
    return int(value)


def _check_fraction(name: str, value: Any, *, open_low: bool) -> float:
    allowed = "a number in (0, 1)" if open_low else "a number in [0, 1]"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"demo.{name} must be {allowed}, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number > 1 or number < 0 or (open_low and number == 0):
        raise ConfigError(f"demo.{name} must be {allowed}, got {value!r}")
    return number


def validate_params(
    *,
    styles: Any = 8,
    images_per_style: Any = 50,
    width: Any = 192,
    height: Any = 256,
    seed: Any = 0,
    background_bias: Any = 0.0,
    split: Any = DEFAULT_SPLIT,
) -> DemoParams:
    """Check generation parameters and return them as DemoParams.

    Raises ConfigError that names the first invalid parameter, its value and the allowed range.
    """
    styles = _check_int("styles", styles, 2, len(STYLE_NAMES))
    images_per_style = _check_int("images_per_style", images_per_style, 3, _MAX_IMAGES // styles)
    width = _check_int("width", width, 64, 2048)
    height = _check_int("height", height, 64, 2048)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    background_bias = _check_fraction("background_bias", background_bias, open_low=False)
    if isinstance(split, Mapping):
        if set(split) != set(SPLIT_NAMES):
            raise ConfigError(
                f"demo.split must have exactly the keys train, val and test, got {sorted(split)!r}"
            )
        split = tuple(split[name] for name in SPLIT_NAMES)
    if isinstance(split, (str, bytes)) or not hasattr(split, "__len__") or len(split) != 3:
        raise ConfigError(f"demo.split must be three fractions (train, val, test), got {split!r}")
    fractions = tuple(
        _check_fraction(f"split.{name}", value, open_low=True) for name, value in zip(SPLIT_NAMES, split)
    )
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ConfigError(f"demo.split fractions must sum to 1, got {fractions!r} (sum {sum(fractions):g})")
    return DemoParams(styles, images_per_style, width, height, seed, background_bias, fractions)


def split_counts(images_per_style: int, split: tuple[float, float, float]) -> tuple[int, int, int]:
    """Return how many images of one style go to train, val and test (each at least one)."""
    quotas = [images_per_style * fraction for fraction in split]
    counts = [max(1, int(math.floor(quota))) for quota in quotas]
    # Largest remainder first, then take back from the largest split while over the total.
    order = sorted(range(3), key=lambda k: (quotas[k] - math.floor(quotas[k]), -k), reverse=True)
    index = 0
    while sum(counts) < images_per_style:
        counts[order[index % 3]] += 1
        index += 1
    while sum(counts) > images_per_style:
        largest = max(range(3), key=lambda k: counts[k])
        counts[largest] -= 1
    return counts[0], counts[1], counts[2]


# ----------------------------------------------------------------------------------------------
# Drawing primitives


def _hex_color(text: str) -> np.ndarray:
    return np.array([int(text[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float32) / 255.0


def _pick(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    names = list(weights)
    probabilities = np.array([weights[name] for name in names], dtype=float)
    return names[int(rng.choice(len(names), p=probabilities / probabilities.sum()))]


def _ellipse_points(cx, cy, rx, ry, start=0.0, stop=2 * math.pi, count=32, rotation=0.0):
    angles = np.linspace(start, stop, count)
    xs = rx * np.cos(angles)
    ys = ry * np.sin(angles)
    cos_r, sin_r = math.cos(rotation), math.sin(rotation)
    return [(cx + x * cos_r - y * sin_r, cy + x * sin_r + y * cos_r) for x, y in zip(xs, ys)]


def _limb_polygons(points, widths):
    """Return quads along a polyline with the given widths at its points, plus round joints."""
    polygons = []
    for (x0, y0), (x1, y1), w0, w1 in zip(points[:-1], points[1:], widths[:-1], widths[1:]):
        length = math.hypot(x1 - x0, y1 - y0) or 1e-6
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length
        polygons.append(
            [
                (x0 + nx * w0 / 2, y0 + ny * w0 / 2),
                (x1 + nx * w1 / 2, y1 + ny * w1 / 2),
                (x1 - nx * w1 / 2, y1 - ny * w1 / 2),
                (x0 - nx * w0 / 2, y0 - ny * w0 / 2),
            ]
        )
    for (x, y), w in zip(points[1:-1], widths[1:-1]):
        polygons.append(_ellipse_points(x, y, w / 2, w / 2, count=16))
    return polygons


def _point_along(points, fraction):
    """Return the polyline cut at `fraction` of its length, as its list of points."""
    lengths = [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points[:-1], points[1:])]
    remaining = fraction * sum(lengths)
    cut = [points[0]]
    for (a, b), length in zip(zip(points[:-1], points[1:]), lengths):
        if remaining <= length:
            t = remaining / length if length else 0.0
            cut.append((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t))
            return cut
        remaining -= length
        cut.append(b)
    return cut


@dataclass
class Fill:
    """Colouring of a part: a textile pattern in up to three colours."""

    pattern: str
    colors: list[np.ndarray]
    period: float = 0.35  # pattern period in head units
    angle: float = 0.0
    seed: int = 0
    pleats: float = 0.0  # strength of vertical pleat shading
    texture: float = 0.03  # amplitude of per-pixel fabric noise


@dataclass
class Part:
    """Polygons painted in one go, owned by a garment instance or by the person (owner -1)."""

    owner: int
    fill: Fill
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)


@dataclass
class Garment:
    """One annotated garment instance."""

    category: int
    attributes: list[int]


class Sketch:
    """Parts in painting order, with a small rotation applied to every point."""

    def __init__(self, pivot: tuple[float, float], angle: float):
        self.pivot = pivot
        self.cos = math.cos(angle)
        self.sin = math.sin(angle)
        self.parts: list[Part] = []
        self.garments: list[Garment] = []

    def garment(self, category: str, attributes: list[str]) -> int:
        category_id = [name for name, _ in CATEGORIES].index(category)
        ids = sorted({_ATTRIBUTE_IDS[name] for name in attributes})
        self.garments.append(Garment(category_id, ids))
        return len(self.garments) - 1

    def part(self, owner: int, fill: Fill, polygons) -> None:
        px, py = self.pivot
        rotated = []
        for polygon in polygons:
            rotated.append(
                [
                    (
                        px + (x - px) * self.cos - (y - py) * self.sin,
                        py + (x - px) * self.sin + (y - py) * self.cos,
                    )
                    for x, y in polygon
                ]
            )
        self.parts.append(Part(owner, fill, rotated))


# ----------------------------------------------------------------------------------------------
# Figure geometry


@dataclass
class Body:
    """Landmarks of a standing figure in supersampled pixels, where `unit` is one head height."""

    cx: float
    top: float
    unit: float
    build: float
    shoulders: dict[int, tuple[float, float]]
    arms: dict[int, list[tuple[float, float]]]  # shoulder, elbow, wrist
    hands: dict[int, tuple[float, float]]
    legs: dict[int, list[tuple[float, float]]]  # hip joint, knee, ankle

    def y(self, heads: float) -> float:
        return self.top + heads * self.unit

    def torso_half_width(self, heads: float) -> float:
        knots_y = (1.25, 1.4, 2.1, 2.9, 3.55, 3.95)
        knots_w = (0.2, 0.9, 0.72, 0.56, 0.8, 0.76)
        return float(np.interp(heads, knots_y, knots_w)) * self.unit * self.build

    def leg_outer_x(self, heads: float, side: int) -> float:
        """Return the outer edge x of a leg at a height, for skirts that must cover it."""
        hip, knee, ankle = self.legs[side]
        y = self.y(heads)
        if y <= knee[1]:
            t = (y - hip[1]) / max(knee[1] - hip[1], 1e-6)
            x = hip[0] + (knee[0] - hip[0]) * t
            width = 0.62 + (0.38 - 0.62) * t
        else:
            t = min(1.0, (y - knee[1]) / max(ankle[1] - knee[1], 1e-6))
            x = knee[0] + (ankle[0] - knee[0]) * t
            width = 0.38 + (0.24 - 0.38) * t
        return x + side * width * self.unit * self.build / 2


def _pose_body(
    rng: np.random.Generator, canvas_w: int, canvas_h: int, *, keep_left_hand: bool, keep_right_hand: bool
) -> Body:
    if rng.random() < 0.12:
        figure_h = canvas_h * rng.uniform(1.0, 1.15)  # close framing that cuts off the feet
    else:
        figure_h = canvas_h * rng.uniform(0.8, 0.95)
    figure_h = min(figure_h, canvas_w * 2.0)
    unit = figure_h / 7.85
    free = canvas_h - 7.85 * unit
    if free > 0:
        top = rng.uniform(min(0.45 * unit, free), free)  # room above the head for a hat where it fits
    else:
        top = rng.uniform(0.3, 0.6) * unit
    spread_x = max(0.0, canvas_w - 4.0 * unit) / 2
    cx = canvas_w / 2 + rng.uniform(-0.7, 0.7) * spread_x
    build = rng.uniform(0.9, 1.12)
    body = Body(cx, top, unit, build, {}, {}, {}, {})
    stance = rng.uniform(0.0, 0.3) * unit
    keep_hand = {-1: keep_left_hand, 1: keep_right_hand}
    for side in (-1, 1):
        shoulder = (cx + side * 0.78 * unit * build, body.y(1.55))
        on_hip = not keep_hand[side] and rng.random() < 0.18
        if on_hip:
            upper = math.radians(rng.uniform(35, 45))
            lower = math.radians(rng.uniform(-55, -45))
        else:
            upper = math.radians(rng.uniform(4, 20))
            lower = upper + math.radians(rng.uniform(-12, 12))
        elbow = (
            shoulder[0] + side * 1.45 * unit * math.sin(upper),
            shoulder[1] + 1.45 * unit * math.cos(upper),
        )
        wrist = (elbow[0] + side * 1.3 * unit * math.sin(lower), elbow[1] + 1.3 * unit * math.cos(lower))
        length = math.hypot(wrist[0] - elbow[0], wrist[1] - elbow[1])
        hand = (
            wrist[0] + (wrist[0] - elbow[0]) / length * 0.16 * unit,
            wrist[1] + (wrist[1] - elbow[1]) / length * 0.16 * unit,
        )
        body.shoulders[side] = shoulder
        body.arms[side] = [shoulder, elbow, wrist]
        body.hands[side] = hand
        hip = (cx + side * 0.38 * unit * build, body.y(3.75))
        ankle = (cx + side * (0.3 * unit * build + stance / 2 + rng.uniform(0, 0.08) * unit), body.y(7.4))
        knee = ((hip[0] + ankle[0]) / 2 + side * rng.uniform(-0.04, 0.06) * unit, body.y(5.6))
        body.legs[side] = [hip, knee, ankle]
    return body


# ----------------------------------------------------------------------------------------------
# Outfits


@dataclass
class Outfit:
    """Garment and accessory choices for one figure, with their fills."""

    dress: str | None
    upper: str | None
    lower: str | None
    outer: str | None
    tucked: bool
    shoes: str
    bag: str | None
    bag_side: int
    hat: str | None
    scarf: bool
    belt: bool
    hair: str
    skin: np.ndarray
    hair_color: np.ndarray
    legwear: np.ndarray | None
    fills: dict[str, Fill]


def _jitter_color(rng: np.random.Generator, color: np.ndarray, amount: float = 0.12) -> np.ndarray:
    gain = rng.uniform(1 - amount, 1 + amount, size=3) * rng.uniform(0.9, 1.1)
    return np.clip(color * gain + rng.uniform(-0.03, 0.03), 0.0, 1.0).astype(np.float32)


def _borrow(rng: np.random.Generator, own: StyleSpec, styles: int) -> StyleSpec:
    """Return `own`, or with probability STYLE_MIX the spec of a random style among the first `styles`."""
    if rng.random() < STYLE_MIX:
        return STYLES[STYLE_NAMES[int(rng.integers(styles))]]
    return own


def _sample_fill(
    rng: np.random.Generator,
    palette: tuple[str, ...],
    patterns: Mapping[str, float],
    *,
    plain_bias: float = 0.0,
) -> Fill:
    pattern = "plain" if rng.random() < plain_bias else _pick(rng, patterns)
    order = rng.permutation(len(palette))
    colors = [_jitter_color(rng, _hex_color(palette[int(k)])) for k in order[:3]]
    if rng.random() < 0.35:
        colors[1] = _jitter_color(rng, _hex_color(NEUTRALS[int(rng.integers(len(NEUTRALS)))]))
    period = {"plain": 1.0, "stripe": 0.3, "check": 0.45, "dot": 0.3, "floral": 0.5, "camouflage": 0.9}[
        pattern
    ]
    angle = 0.0
    if pattern == "stripe":
        angle = float(rng.choice([0.0, math.pi / 2, math.pi / 4]))
    return Fill(
        pattern=pattern,
        colors=colors,
        period=period * rng.uniform(0.7, 1.4),
        angle=angle,
        seed=int(rng.integers(2**31)),
    )


def _sample_outfit(rng: np.random.Generator, style: str, styles: int) -> Outfit:
    own = STYLES[style]
    shape = _borrow(rng, own, styles)
    palette = _borrow(rng, own, styles).palette
    patterns = _borrow(rng, own, styles).patterns
    footwear = _borrow(rng, own, styles)
    extras = _borrow(rng, own, styles)
    looks = _borrow(rng, own, styles)

    dress = upper = lower = outer = None
    if rng.random() < shape.dress:
        dress = _pick(rng, shape.dresses)
    else:
        upper = _pick(rng, shape.uppers)
        lower = _pick(rng, shape.lowers)
    if rng.random() < shape.outer:
        outer = _pick(rng, shape.outers)
    tucked = upper is not None and upper not in ("crop", "hoodie", "sweater") and rng.random() < 0.5
    bag = _pick(rng, extras.bags) if rng.random() < extras.bag else None
    hat = _pick(rng, extras.hats) if rng.random() < extras.hat else None
    tone = min(len(SKIN_TONES) - 1, int(rng.integers(len(SKIN_TONES)) + looks.tan * rng.integers(0, 4)))
    legwear = None
    if rng.random() < looks.tights:
        legwear = _jitter_color(rng, _hex_color(str(rng.choice(["#141419", "#f5f5f0", "#3c3c41"]))))

    fills = {}
    for slot in ("dress", "upper", "lower", "outer"):
        fills[slot] = _sample_fill(rng, palette, patterns)
    fills["outer"].pattern = "plain" if rng.random() < 0.7 else fills["outer"].pattern
    fills["shoes"] = _sample_fill(rng, palette + NEUTRALS, patterns, plain_bias=0.85)
    fills["bag"] = _sample_fill(rng, palette + NEUTRALS, patterns, plain_bias=0.7)
    fills["hat"] = _sample_fill(rng, palette + NEUTRALS, patterns, plain_bias=0.75)
    fills["scarf"] = _sample_fill(rng, palette, patterns)
    fills["belt"] = _sample_fill(rng, NEUTRALS + palette, {"plain": 1})
    return Outfit(
        dress=dress,
        upper=upper,
        lower=lower,
        outer=outer,
        tucked=tucked,
        shoes=_pick(rng, footwear.shoes),
        bag=bag,
        bag_side=int(rng.choice([-1, 1])),
        hat=hat,
        scarf=rng.random() < extras.scarf,
        belt=(lower is not None or dress is not None) and rng.random() < extras.belt,
        hair=_pick(rng, looks.hair),
        skin=_jitter_color(rng, _hex_color(SKIN_TONES[tone]), amount=0.04),
        hair_color=_jitter_color(rng, _hex_color(HAIR_COLORS[int(rng.integers(len(HAIR_COLORS)))])),
        legwear=legwear,
        fills=fills,
    )


# ----------------------------------------------------------------------------------------------
# Figure drawing


def _plain(color: np.ndarray, texture: float = 0.02) -> Fill:
    return Fill("plain", [color], texture=texture)


def _darker(fill: Fill, factor: float) -> Fill:
    return Fill("plain", [np.clip(fill.colors[0] * factor, 0, 1)], texture=fill.texture)


def _length_attribute(hem: float) -> str:
    if hem < 5.0:
        return "mini (length)"
    if hem < 5.9:
        return "knee (length)"
    if hem < 6.9:
        return "midi"
    return "maxi (length)"


def _sleeve_attribute(sleeve: str) -> str:
    return {
        "none": "sleeveless",
        "short": "short (length)",
        "puff": "short (length)",
        "long": "wrist-length",
    }[sleeve]


def _cut_limb(points, widths, fraction):
    """Return the first `fraction` of a limb polyline and the widths at its points."""
    cut = _point_along(points, fraction)
    lengths = np.cumsum(
        [0.0] + [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points[:-1], points[1:])]
    )
    cut_lengths = np.cumsum([0.0] + [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(cut[:-1], cut[1:])])
    return cut, [float(np.interp(length, lengths, widths)) for length in cut_lengths]


def _arm_widths(body: Body) -> list[float]:
    return [w * body.unit * body.build for w in (0.34, 0.28, 0.22)]


def _leg_widths(body: Body) -> list[float]:
    return [w * body.unit * body.build for w in (0.62, 0.38, 0.24)]


def _neckline(body: Body, neck: str) -> list[tuple[float, float]]:
    """Return the neckline from the right neck point to the left one, through the front."""
    u, cx = body.unit, body.cx
    if neck == "v":
        return [(cx + 0.24 * u, body.y(1.22)), (cx, body.y(1.85)), (cx - 0.24 * u, body.y(1.22))]
    if neck == "boat":
        return [(cx + 0.42 * u, body.y(1.32)), (cx, body.y(1.4)), (cx - 0.42 * u, body.y(1.32))]
    return _ellipse_points(cx, body.y(1.22), 0.24 * u, 0.18 * u, start=0.0, stop=math.pi, count=9)


def _upper_body_polygon(body: Body, neck: str, hem: float, ease: float, flare: float = 0.0) -> list:
    u, cx = body.unit, body.cx
    heights = [h for h in (2.1, 2.9, 3.55, 3.95) if h < hem] + [hem]
    left = []
    if neck == "straps":
        start = [(cx - (body.torso_half_width(1.95) + ease * u * 0.5), body.y(1.92))]
        heights = [h for h in heights if h > 1.95]
    else:
        start = [(cx - (body.torso_half_width(1.4) + 0.05 * u), body.y(1.38))]
    for h in heights:
        extra = flare * u * max(0.0, (h - 2.9) / max(hem - 2.9, 1e-6)) if hem > 2.9 else 0.0
        left.append((cx - (body.torso_half_width(h) + ease * u + extra), body.y(h)))
    outline = start + left
    right = [(2 * cx - x, y) for x, y in reversed(outline)]
    if neck == "straps":
        neckline = _ellipse_points(
            cx, body.y(1.92), body.torso_half_width(1.95) * 0.7, 0.12 * u, start=0.0, stop=math.pi, count=9
        )
        return outline + right + neckline
    return (
        [(cx - 0.24 * u, body.y(1.22))]
        + outline
        + right
        + [(cx + 0.24 * u, body.y(1.22))]
        + _neckline(body, neck)[1:-1]
    )


def _strap_polygons(body: Body) -> list:
    u, cx = body.unit, body.cx
    polygons = []
    for side in (-1, 1):
        top = (cx + side * 0.45 * u * body.build, body.y(1.32))
        bottom = (cx + side * body.torso_half_width(1.95) * 0.72, body.y(1.97))
        polygons += _limb_polygons([top, bottom], [0.09 * u, 0.09 * u])
    return polygons


def _sleeve_polygons(body: Body, side: int, sleeve: str, ease: float) -> list:
    if sleeve == "none":
        return []
    u = body.unit
    fraction = {"short": 0.26, "puff": 0.22, "long": 0.97}[sleeve]
    points, widths = _cut_limb(body.arms[side], _arm_widths(body), fraction)
    widths = [w + 2 * ease * u for w in widths]
    shoulder = body.arms[side][0]
    cap = 0.3 * u if sleeve == "puff" else 0.2 * u + ease * u
    polygons = _limb_polygons(points, widths)
    polygons.append(_ellipse_points(shoulder[0], shoulder[1] + 0.05 * u, cap, cap, count=20))
    return polygons


def _skirt_polygon(body: Body, top: float, hem: float, hem_half: float, flare: float) -> list:
    u, cx = body.unit, body.cx
    top_half = body.torso_half_width(top) + 0.05 * u
    left = []
    for t in np.linspace(0.0, 1.0, 9):
        h = top + (hem - top) * t
        shape = t ** (0.55 if flare else 1.0)
        half = top_half + (hem_half * u - top_half) * shape
        cover = (
            max(
                body.torso_half_width(min(h, 3.95)) + 0.05 * u,
                max(abs(body.leg_outer_x(h, s) - cx) for s in (-1, 1)) + 0.06 * u,
            )
            if h > 3.4
            else 0.0
        )
        left.append((cx - max(half, cover), body.y(h)))
    hem_points = []
    left_x = left[-1][0]
    for t in np.linspace(0.0, 1.0, 25):
        x = left_x + 2 * (cx - left_x) * t
        drop = 0.12 * u * math.sin(math.pi * t) + (
            0.09 * u * abs(math.sin(7 * math.pi * t)) if flare else 0.0
        )
        hem_points.append((x, body.y(hem) + drop))
    right = [(2 * cx - x, y) for x, y in reversed(left)]
    return left[:-1] + hem_points + right[1:]


def _pants_polygons(body: Body, option: Mapping[str, float]) -> list:
    u, cx = body.unit, body.cx
    pelvis = []
    for h in (2.88, 3.55, 3.95):
        pelvis.append((cx - (body.torso_half_width(h) + 0.05 * u), body.y(h)))
    pelvis_outline = pelvis + [(cx, body.y(4.12))] + [(2 * cx - x, y) for x, y in reversed(pelvis)]
    polygons = [pelvis_outline]
    fraction = min(1.03, (option["hem"] - 3.75) / (7.4 - 3.75))
    for side in (-1, 1):
        hip, knee, ankle = body.legs[side]
        chain = [hip, knee, (ankle[0], ankle[1] + 0.12 * u)]
        points, widths = _cut_limb(chain, _leg_widths(body), fraction)
        lengths = np.linspace(0.0, 1.0, len(points))
        widths = [
            max(w + 0.08 * u, option["width"] * u + option["flare"] * u * t) for w, t in zip(widths, lengths)
        ]
        polygons += _limb_polygons(points, widths)
    return polygons


def _shoe_polygons(body: Body, side: int, kind: str) -> tuple[list, list]:
    """Return the upper and the sole polygons of one shoe."""
    u = body.unit
    ax, ay = body.legs[side][2]
    sole_y = ay + 0.35 * u
    toe_x = ax + side * 0.04 * u
    top_offset = {"pumps": 0.17, "flats": 0.13, "sneakers": -0.08, "boots": 0.0, "platform": 0.04}[kind]
    half_top = {"sneakers": 0.17, "boots": 0.16, "platform": 0.16}.get(kind, 0.13) * u
    toe_rx = {"sneakers": 0.24, "boots": 0.22, "platform": 0.22}.get(kind, 0.19) * u
    upper = [(ax - half_top, ay + top_offset * u), (ax + half_top, ay + top_offset * u)]
    upper += _ellipse_points(toe_x, sole_y - 0.12 * u, toe_rx, 0.13 * u, start=0.0, stop=math.pi, count=13)
    polygons = [upper]
    if kind == "boots":
        hip, knee, ankle = body.legs[side]
        calf = (knee[0] + (ankle[0] - knee[0]) * 0.2, knee[1] + (ankle[1] - knee[1]) * 0.2)
        polygons += _limb_polygons(
            [calf, (ankle[0], ankle[1] + 0.1 * u)], [0.42 * u * body.build, 0.3 * u * body.build]
        )
    soles = []
    thickness = {"sneakers": 0.09, "platform": 0.17}.get(kind, 0.0) * u
    if thickness:
        soles.append(
            _ellipse_points(
                toe_x, sole_y - 0.05 * u, toe_rx + 0.02 * u, 0.07 * u, start=0.0, stop=math.pi, count=13
            )
            + [
                (toe_x - toe_rx - 0.02 * u, sole_y - 0.05 * u - thickness),
                (toe_x + toe_rx + 0.02 * u, sole_y - 0.05 * u - thickness),
            ]
        )
    return polygons, soles


def _foot_polygon(body: Body, side: int) -> list:
    u = body.unit
    ax, ay = body.legs[side][2]
    return [(ax - 0.11 * u, ay - 0.05 * u), (ax + 0.11 * u, ay - 0.05 * u)] + _ellipse_points(
        ax + side * 0.04 * u, ay + 0.23 * u, 0.17 * u, 0.12 * u, start=0.0, stop=math.pi, count=11
    )


def _outer_polygons(
    body: Body, side: int, hem: float, ease: float, gap: float, flare: float
) -> tuple[list, list]:
    """Return one front panel of an open or closed jacket and its lapel."""
    u, cx = body.unit, body.cx
    outline = [
        (cx + side * 0.26 * u, body.y(1.2)),
        (cx + side * (body.torso_half_width(1.4) + 0.09 * u), body.y(1.37)),
    ]
    for h in [h for h in (2.1, 2.9, 3.55, 3.95, 4.6, 5.4) if h < hem] + [hem]:
        extra = flare * u * max(0.0, h - 3.55) / 2.0
        outline.append((cx + side * (body.torso_half_width(min(h, 3.95)) + ease * u + extra), body.y(h)))
    outline.append((cx + side * gap * u, body.y(hem)))
    outline.append((cx + side * gap * u, body.y(2.45)))
    lapel = [
        (cx + side * 0.26 * u, body.y(1.2)),
        (cx + side * 0.5 * u, body.y(1.75)),
        (cx + side * (gap + 0.04) * u, body.y(2.4)),
    ]
    return [outline], [lapel]


def _hair_back_polygons(body: Body, hair: str, rng: np.random.Generator) -> list:
    u, cx = body.unit, body.cx
    crown = _ellipse_points(cx, body.y(0.5), 0.48 * u, 0.55 * u, start=math.pi, stop=2 * math.pi, count=17)
    if hair == "long":
        length = rng.uniform(1.9, 2.6)
        return [
            crown
            + [
                (cx + 0.52 * u, body.y(1.5)),
                (cx + 0.45 * u, body.y(length)),
                (cx - 0.45 * u, body.y(length)),
                (cx - 0.52 * u, body.y(1.5)),
            ]
        ]
    if hair == "bob":
        return [crown + [(cx + 0.5 * u, body.y(1.12)), (cx - 0.5 * u, body.y(1.12))]]
    if hair == "tied":
        side = 1 if rng.random() < 0.5 else -1
        return [_ellipse_points(cx + side * 0.12 * u, body.y(-0.02), 0.22 * u, 0.2 * u, count=20)]
    if hair == "twintails":
        polygons = []
        for side in (-1, 1):
            chain = [
                (cx + side * 0.4 * u, body.y(0.35)),
                (cx + side * 0.66 * u, body.y(1.2)),
                (cx + side * 0.6 * u, body.y(2.0)),
            ]
            polygons += _limb_polygons(chain, [0.3 * u, 0.3 * u, 0.12 * u])
        return polygons
    return []


def _hair_front_polygons(body: Body, hair: str, rng: np.random.Generator) -> list:
    u, cx = body.unit, body.cx
    part = rng.uniform(-0.15, 0.15) * u
    cap = _ellipse_points(
        cx, body.y(0.5), 0.41 * u, 0.53 * u, start=math.pi + 0.12, stop=2 * math.pi - 0.12, count=19
    )
    fringe = [
        (cx + 0.37 * u, body.y(0.42)),
        (cx + part + 0.12 * u, body.y(0.26)),
        (cx + part, body.y(0.2)),
        (cx + part - 0.14 * u, body.y(0.3)),
        (cx - 0.37 * u, body.y(0.44)),
    ]
    polygons = [cap + fringe]
    if hair in ("long", "bob", "twintails"):
        bottom = 1.0 if hair != "bob" else 0.95
        for side in (-1, 1):
            polygons += _limb_polygons(
                [(cx + side * 0.36 * u, body.y(0.3)), (cx + side * 0.42 * u, body.y(bottom))],
                [0.14 * u, 0.1 * u],
            )
    return polygons


def _hat_polygons(body: Body, kind: str, rng: np.random.Generator) -> tuple[list, list]:
    """Return the hat polygons and its band or knot."""
    u, cx = body.unit, body.cx
    tilt = rng.uniform(-0.12, 0.12)
    if kind == "brim":
        brim = _ellipse_points(cx, body.y(0.24), rng.uniform(0.75, 0.95) * u, 0.15 * u, rotation=tilt * 0.3)
        crown = [(cx - 0.42 * u, body.y(0.22)), (cx + 0.42 * u, body.y(0.22))] + _ellipse_points(
            cx, body.y(-0.05), 0.4 * u, 0.3 * u, start=0.0, stop=-math.pi, count=13
        )
        band = [
            (cx - 0.42 * u, body.y(0.1)),
            (cx + 0.42 * u, body.y(0.1)),
            (cx + 0.42 * u, body.y(0.2)),
            (cx - 0.42 * u, body.y(0.2)),
        ]
        return [brim, crown], [band]
    if kind == "fedora":
        brim = _ellipse_points(cx, body.y(0.22), 0.62 * u, 0.12 * u, rotation=tilt * 0.3)
        crown = [
            (cx - 0.4 * u, body.y(0.2)),
            (cx + 0.4 * u, body.y(0.2)),
            (cx + 0.34 * u, body.y(-0.32)),
            (cx, body.y(-0.24)),
            (cx - 0.34 * u, body.y(-0.32)),
        ]
        band = [
            (cx - 0.4 * u, body.y(0.08)),
            (cx + 0.4 * u, body.y(0.08)),
            (cx + 0.4 * u, body.y(0.18)),
            (cx - 0.4 * u, body.y(0.18)),
        ]
        return [brim, crown], [band]
    if kind == "beret":
        side = 1 if tilt > 0 else -1
        beret = _ellipse_points(cx + side * 0.1 * u, body.y(0.06), 0.52 * u, 0.22 * u, rotation=side * 0.18)
        stalk = _ellipse_points(cx + side * 0.1 * u, body.y(-0.17), 0.05 * u, 0.06 * u, count=10)
        return [beret, stalk], []
    if kind == "cap":
        crown = _ellipse_points(
            cx, body.y(0.34), 0.43 * u, 0.38 * u, start=math.pi, stop=2 * math.pi, count=17
        )
        visor = _ellipse_points(cx, body.y(0.34), 0.44 * u, 0.1 * u, start=0.0, stop=math.pi, count=11) + [
            (cx - 0.44 * u, body.y(0.32))
        ]
        return [crown, visor], []
    side = 1 if tilt > 0 else -1
    knot_x, knot_y = cx + side * 0.22 * u, body.y(0.02)
    wings = [
        [(knot_x, knot_y), (knot_x - 0.36 * u, knot_y - 0.2 * u), (knot_x - 0.36 * u, knot_y + 0.16 * u)],
        [(knot_x, knot_y), (knot_x + 0.36 * u, knot_y - 0.2 * u), (knot_x + 0.36 * u, knot_y + 0.16 * u)],
    ]
    headband = _limb_polygons(
        _ellipse_points(
            cx, body.y(0.5), 0.42 * u, 0.52 * u, start=math.pi + 0.3, stop=2 * math.pi - 0.3, count=9
        ),
        [0.07 * u] * 9,
    )
    return wings + headband, [_ellipse_points(knot_x, knot_y, 0.08 * u, 0.08 * u, count=12)]


def _bag_polygons(body: Body, kind: str, side: int, rng: np.random.Generator) -> tuple[list, list]:
    """Return the bag body with its strap or handle, and its flap or trim."""
    u, cx = body.unit, body.cx
    hand_x, hand_y = body.hands[side]
    if kind == "handbag":
        top = hand_y + 0.3 * u
        width, height = rng.uniform(0.8, 1.0) * u, rng.uniform(0.6, 0.8) * u
        body_polygon = [
            (hand_x - width / 2, top),
            (hand_x + width / 2, top),
            (hand_x + width * 0.58, top + height),
            (hand_x - width * 0.58, top + height),
        ]
        handle = _limb_polygons(
            _ellipse_points(hand_x, top, width * 0.3, 0.38 * u, start=math.pi, stop=2 * math.pi, count=9),
            [0.07 * u] * 9,
        )
        flap = [(hand_x - width / 2, top), (hand_x + width / 2, top), (hand_x, top + height * 0.45)]
        return [body_polygon] + handle, [flap]
    if kind == "clutch":
        width, height = rng.uniform(0.7, 0.85) * u, rng.uniform(0.3, 0.4) * u
        box = [
            (hand_x - width / 2, hand_y - height * 0.3),
            (hand_x + width / 2, hand_y - height * 0.3),
            (hand_x + width / 2, hand_y + height * 0.7),
            (hand_x - width / 2, hand_y + height * 0.7),
        ]
        trim = [
            (hand_x - width / 2, hand_y - height * 0.3),
            (hand_x + width / 2, hand_y - height * 0.3),
            (hand_x + width / 2, hand_y - height * 0.05),
            (hand_x - width / 2, hand_y - height * 0.05),
        ]
        return [box], [trim]
    if kind == "tote":
        shoulder_x, shoulder_y = body.shoulders[side]
        bag_x = shoulder_x + side * 0.45 * u
        top = body.y(3.2)
        width, height = rng.uniform(1.0, 1.2) * u, rng.uniform(1.0, 1.25) * u
        box = [
            (bag_x - width / 2, top),
            (bag_x + width / 2, top),
            (bag_x + width * 0.52, top + height),
            (bag_x - width * 0.52, top + height),
        ]
        straps = []
        for offset in (-0.3, 0.3):
            straps += _limb_polygons(
                [
                    (shoulder_x + offset * 0.3 * u, shoulder_y - 0.08 * u),
                    (bag_x + offset * width, top + 0.05 * u),
                ],
                [0.08 * u, 0.08 * u],
            )
        return [box] + straps, []
    # A crossbody bag at the hip, its strap from the opposite shoulder.
    start = (cx - side * 0.55 * u * body.build, body.y(1.42))
    bag_x, top = cx + side * (body.torso_half_width(3.55) + 0.2 * u), body.y(3.35)
    width, height = rng.uniform(0.55, 0.7) * u, rng.uniform(0.45, 0.55) * u
    box = [
        (bag_x - width / 2, top),
        (bag_x + width / 2, top),
        (bag_x + width / 2, top + height),
        (bag_x - width / 2, top + height),
    ]
    strap = _limb_polygons([start, (bag_x, top + 0.05 * u)], [0.07 * u, 0.07 * u])
    flap = [
        (bag_x - width / 2, top),
        (bag_x + width / 2, top),
        (bag_x + width / 2, top + height * 0.5),
        (bag_x - width / 2, top + height * 0.5),
    ]
    return [box] + strap, [flap]


def _draw_figure(rng: np.random.Generator, body: Body, outfit: Outfit) -> Sketch:
    """Lay out the parts of a dressed figure in painting order, back to front."""
    u, cx = body.unit, body.cx
    sketch = Sketch((cx, body.y(7.75)), math.radians(rng.uniform(-3.0, 3.0)))
    skin = Fill("plain", [outfit.skin], texture=0.01)
    hair = Fill(
        "stripe",
        [outfit.hair_color, np.clip(outfit.hair_color * 0.75 + 0.02, 0, 1)],
        period=0.05,
        angle=math.pi / 2,
        texture=0.02,
    )
    legs = _plain(outfit.legwear, 0.01) if outfit.legwear is not None else skin
    fills = outfit.fills

    upper_spec = UPPER_OPTIONS[outfit.upper] if outfit.upper else None
    lower_spec = LOWER_OPTIONS[outfit.lower] if outfit.lower else None
    dress_spec = DRESS_OPTIONS[outfit.dress] if outfit.dress else None
    outer_spec = OUTER_OPTIONS[outfit.outer] if outfit.outer else None

    # Garment instances and their attributes.
    fit_attribute = {"tight": "tight (fit)", "regular": "regular (fit)", "loose": "loose (fit)"}
    dress = upper = lower = outer = None
    if dress_spec:
        dress_hem = dress_spec["hem"] + rng.uniform(-0.2, 0.2)
        dress = sketch.garment(
            "dress",
            [
                _PATTERN_ATTRIBUTE[fills["dress"].pattern],
                _length_attribute(dress_hem),
                _sleeve_attribute(dress_spec["sleeve"]),
            ],
        )
    if upper_spec:
        upper_hem = {"crop": 2.6, "sweater": 3.85}.get(outfit.upper, 3.65) + rng.uniform(-0.1, 0.1)
        if outfit.upper == "hoodie":
            upper_hem = 3.85
        if outfit.tucked:
            upper_hem = 3.0
        upper = sketch.garment(
            upper_spec["category"],
            [
                _PATTERN_ATTRIBUTE[fills["upper"].pattern],
                fit_attribute[upper_spec["fit"]],
                _sleeve_attribute(upper_spec["sleeve"]),
            ],
        )
    if lower_spec:
        lower_hem = lower_spec["hem"] + rng.uniform(-0.15, 0.15)
        attributes = [_PATTERN_ATTRIBUTE[fills["lower"].pattern]]
        if lower_spec["category"] == "skirt":
            attributes.append(_length_attribute(lower_hem))
        else:
            fits = {"skinny": "tight (fit)", "wide": "loose (fit)"}
            attributes.append(fits.get(outfit.lower, "regular (fit)"))
        lower = sketch.garment(lower_spec["category"], attributes)
    if outer_spec:
        outer = sketch.garment(
            outer_spec["category"], [_PATTERN_ATTRIBUTE[fills["outer"].pattern], "wrist-length"]
        )
    shoes = {side: sketch.garment("shoe", [_PATTERN_ATTRIBUTE[fills["shoes"].pattern]]) for side in (-1, 1)}
    bag = sketch.garment("bag", [_PATTERN_ATTRIBUTE[fills["bag"].pattern]]) if outfit.bag else None
    hat = sketch.garment("hat", [_PATTERN_ATTRIBUTE[fills["hat"].pattern]]) if outfit.hat else None

    sketch.part(-1, hair, _hair_back_polygons(body, outfit.hair, rng))
    if outfit.upper == "hoodie" and not outer_spec:
        sketch.part(
            upper, _darker(fills["upper"], 0.85), [_ellipse_points(cx, body.y(1.3), 0.62 * u, 0.3 * u)]
        )

    for side in (-1, 1):
        sketch.part(-1, legs, _limb_polygons(body.legs[side], _leg_widths(body)))
        sketch.part(-1, skin, [_foot_polygon(body, side)])

    boots_over = outfit.shoes == "boots" and (
        lower_spec is None or outfit.lower in ("skinny", "shorts") or lower_spec["category"] == "skirt"
    )

    def draw_shoes() -> None:
        for side in (-1, 1):
            polygons, soles = _shoe_polygons(body, side, outfit.shoes)
            sketch.part(shoes[side], fills["shoes"], polygons)
            if soles:
                sole_color = (
                    np.array([0.95, 0.95, 0.93], np.float32)
                    if outfit.shoes == "sneakers"
                    else np.clip(fills["shoes"].colors[0] * 0.5, 0, 1)
                )
                sketch.part(shoes[side], _plain(sole_color), soles)

    if not boots_over:
        draw_shoes()

    torso = [(cx - body.torso_half_width(h), body.y(h)) for h in (1.25, 1.4, 2.1, 2.9, 3.55, 3.95)]
    torso = torso + [(cx, body.y(4.05))] + [(2 * cx - x, y) for x, y in reversed(torso)]
    sketch.part(
        -1, skin, [torso] + _limb_polygons([(cx, body.y(0.85)), (cx, body.y(1.4))], [0.3 * u, 0.34 * u])
    )

    def draw_upper_body() -> None:
        ease = {"tight": 0.02, "regular": 0.07, "loose": 0.16}[upper_spec["fit"]]
        neck = "crew" if upper_spec["neck"] in ("collar", "hood") else upper_spec["neck"]
        polygons = [_upper_body_polygon(body, neck, upper_hem, ease, flare=0.08 if ease > 0.1 else 0.0)]
        if upper_spec["neck"] == "straps":
            polygons += _strap_polygons(body)
        sketch.part(upper, fills["upper"], polygons)
        if outfit.upper in ("sweater", "hoodie") and not outfit.tucked:
            hem_band = _upper_body_polygon(body, "crew", upper_hem, ease + 0.01)
            band = [(x, max(y, body.y(upper_hem - 0.16))) for x, y in hem_band]
            sketch.part(upper, _darker(fills["upper"], 0.8), [band])

    def draw_lower() -> None:
        if lower_spec["category"] == "pants":
            sketch.part(lower, fills["lower"], _pants_polygons(body, {**lower_spec, "hem": lower_hem}))
        else:
            fill = fills["lower"]
            if outfit.lower == "pleated":
                fill = Fill(
                    fill.pattern,
                    fill.colors,
                    fill.period,
                    fill.angle,
                    fill.seed,
                    pleats=0.25,
                    texture=fill.texture,
                )
            sketch.part(
                lower,
                fill,
                [
                    _skirt_polygon(
                        body, 2.85, lower_hem, lower_spec["width"] * body.build, lower_spec["flare"]
                    )
                ],
            )

    if dress_spec:
        waist = 2.55 if outfit.dress == "bell" else 2.9
        sketch.part(
            dress,
            fills["dress"],
            [_skirt_polygon(body, waist, dress_hem, dress_spec["width"] * body.build, dress_spec["flare"])],
        )
        if outfit.dress == "bell":
            trim_color = np.array([0.97, 0.97, 0.95], np.float32)
            trim = _skirt_polygon(
                body, waist, dress_hem + 0.14, dress_spec["width"] * body.build + 0.04, dress_spec["flare"]
            )
            sketch.part(
                dress,
                Fill("dot", [trim_color, np.clip(fills["dress"].colors[0], 0, 1)], period=0.12),
                [[(x, max(y, body.y(dress_hem - 0.12))) for x, y in trim]],
            )
        bodice = [_upper_body_polygon(body, dress_spec["neck"], waist + 0.15, 0.03)]
        if dress_spec["neck"] == "straps":
            bodice += _strap_polygons(body)
        sketch.part(dress, fills["dress"], bodice)
    elif outfit.tucked:
        draw_upper_body()
        draw_lower()
    else:
        draw_lower()
        draw_upper_body()

    if outer_spec:
        gap = 0.0 if rng.random() < outer_spec["closed"] else rng.uniform(0.12, 0.3)
        outer_hem = outer_spec["hem"] + rng.uniform(-0.15, 0.15)
        flare = 0.25 if outfit.outer == "coat" else 0.0
        lapel_fill = _darker(fills["outer"], 0.72)
        for side in (-1, 1):
            panel, lapel = _outer_polygons(body, side, outer_hem, 0.12, gap, flare)
            sketch.part(outer, fills["outer"], panel)
            if outfit.outer in ("blazer", "coat", "leather"):
                sketch.part(outer, lapel_fill, lapel)
        if gap == 0.0:
            buttons = [
                _ellipse_points(cx, body.y(h), 0.05 * u, 0.05 * u, count=10)
                for h in np.arange(2.65, min(outer_hem, 4.4) - 0.1, 0.45)
            ]
            if buttons:
                sketch.part(outer, _darker(fills["outer"], 0.5), buttons)

    for side in (-1, 1):
        sketch.part(
            -1,
            skin,
            _limb_polygons(body.arms[side], _arm_widths(body))
            + [_ellipse_points(*body.arms[side][0], 0.17 * u, 0.17 * u, count=16)],
        )
    if upper_spec:
        ease = {"tight": 0.02, "regular": 0.05, "loose": 0.1}[upper_spec["fit"]]
        for side in (-1, 1):
            sketch.part(upper, fills["upper"], _sleeve_polygons(body, side, upper_spec["sleeve"], ease))
    if dress_spec:
        for side in (-1, 1):
            sketch.part(dress, fills["dress"], _sleeve_polygons(body, side, dress_spec["sleeve"], 0.04))
    if outer_spec:
        for side in (-1, 1):
            sketch.part(outer, fills["outer"], _sleeve_polygons(body, side, "long", 0.1))

    if upper_spec and upper_spec["neck"] == "collar":
        collar_color = (
            np.clip(fills["upper"].colors[0] * 0.9, 0, 1)
            if rng.random() < 0.5
            else np.array([0.96, 0.96, 0.94], np.float32)
        )
        collar = [
            [(cx, body.y(1.45)), (cx - 0.3 * u, body.y(1.15)), (cx - 0.36 * u, body.y(1.5))],
            [(cx, body.y(1.45)), (cx + 0.3 * u, body.y(1.15)), (cx + 0.36 * u, body.y(1.5))],
        ]
        sketch.part(upper, _plain(collar_color), collar)
        if not outer_spec:
            placket = _limb_polygons(
                [(cx, body.y(1.45)), (cx, body.y(upper_hem - 0.05))], [0.05 * u, 0.05 * u]
            )
            sketch.part(upper, _darker(fills["upper"], 0.8), placket)

    if boots_over:
        draw_shoes()

    if outfit.belt:
        belt_y = 2.55 if outfit.dress == "bell" else 2.88
        half = body.torso_half_width(belt_y) + 0.07 * u
        belt = [
            (cx - half, body.y(belt_y - 0.08)),
            (cx + half, body.y(belt_y - 0.08)),
            (cx + half, body.y(belt_y + 0.08)),
            (cx - half, body.y(belt_y + 0.08)),
        ]
        sketch.part(-1, fills["belt"], [belt])
        sketch.part(
            -1,
            _plain(np.array([0.85, 0.75, 0.35], np.float32)),
            [_ellipse_points(cx, body.y(belt_y), 0.1 * u, 0.1 * u, count=12)],
        )

    if outfit.scarf:
        side = 1 if rng.random() < 0.5 else -1
        wrap = _ellipse_points(cx, body.y(1.27), 0.36 * u, 0.15 * u)
        tail = _limb_polygons(
            [
                (cx + side * 0.15 * u, body.y(1.3)),
                (cx + side * 0.26 * u, body.y(2.2)),
                (cx + side * 0.22 * u, body.y(2.95)),
            ],
            [0.26 * u, 0.24 * u, 0.22 * u],
        )
        sketch.part(-1, fills["scarf"], [wrap] + tail)

    if outfit.bag:
        polygons, trim = _bag_polygons(body, outfit.bag, outfit.bag_side, rng)
        sketch.part(bag, fills["bag"], polygons)
        if trim:
            sketch.part(bag, _darker(fills["bag"], 0.75), trim)

    for side in (-1, 1):
        (hx, hy), (ex, ey) = body.hands[side], body.arms[side][1]
        sketch.part(
            -1,
            skin,
            [
                _ellipse_points(
                    hx, hy, 0.12 * u, 0.17 * u, rotation=math.atan2(hy - ey, hx - ex) - math.pi / 2, count=16
                )
            ],
        )

    sketch.part(-1, skin, [_ellipse_points(cx, body.y(0.52), 0.37 * u, 0.5 * u, count=40)])
    eyes = Fill("plain", [np.array([0.1, 0.08, 0.08], np.float32)], texture=0.0)
    sketch.part(
        -1,
        eyes,
        [
            _ellipse_points(cx + side * 0.14 * u, body.y(0.56), 0.055 * u, 0.035 * u, count=10)
            for side in (-1, 1)
        ],
    )
    lips = Fill("plain", [np.clip(outfit.skin * np.array([0.8, 0.45, 0.45], np.float32), 0, 1)], texture=0.0)
    sketch.part(-1, lips, [_ellipse_points(cx, body.y(0.82), 0.09 * u, 0.035 * u, count=12)])
    sketch.part(-1, hair, _hair_front_polygons(body, outfit.hair, rng))

    if outfit.hat:
        polygons, band = _hat_polygons(body, outfit.hat, rng)
        sketch.part(hat, fills["hat"], polygons)
        if band:
            sketch.part(hat, _darker(fills["hat"], 0.55), band)
    return sketch


# ----------------------------------------------------------------------------------------------
# Painting


@lru_cache(maxsize=1)
def _fabric_noise() -> np.ndarray:
    return np.random.default_rng(7).normal(0.0, 1.0, size=(256, 256)).astype(np.float32)


def _value_noise(grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample smooth noise in [0, 1] from a periodic grid of random values at float coordinates."""
    size = grid.shape[0]
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx = x - x0
    fy = y - y0
    fx = fx * fx * (3 - 2 * fx)
    fy = fy * fy * (3 - 2 * fy)
    x0 %= size
    y0 %= size
    x1 = (x0 + 1) % size
    y1 = (y0 + 1) % size
    a, b, c, d = grid[y0, x0], grid[y0, x1], grid[y1, x0], grid[y1, x1]
    return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy


def _pattern_colors(fill: Fill, x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Return RGB colours of a fill at points given in head units (x, y) and in pixels (px, py)."""
    colors = fill.colors + [fill.colors[0]] * (3 - len(fill.colors))
    c0, c1, c2 = (np.asarray(c, np.float32) for c in colors[:3])
    if fill.angle:
        cos_a, sin_a = math.cos(fill.angle), math.sin(fill.angle)
        x, y = x * cos_a + y * sin_a, -x * sin_a + y * cos_a
    u = x / fill.period
    v = y / fill.period
    out = np.broadcast_to(c0, (x.size, 3)).copy()
    if fill.pattern == "stripe":
        out[(u % 1.0) < 0.45] = c1
    elif fill.pattern == "check":
        in_u = (u % 1.0) < 0.5
        in_v = (v % 1.0) < 0.5
        out[in_u ^ in_v] = (c0 + c1) / 2
        out[in_u & in_v] = c1
        if fill.seed % 2:
            out[((u + 0.25) % 1.0 < 0.07) | ((v + 0.25) % 1.0 < 0.07)] = c2
    elif fill.pattern == "dot":
        row = np.floor(v)
        du = (u + 0.5 * (row % 2)) % 1.0 - 0.5
        dv = v % 1.0 - 0.5
        out[du * du + dv * dv < 0.3**2] = c1
    elif fill.pattern in ("floral", "camouflage"):
        grids = np.random.default_rng(fill.seed).random((2, 16, 16))
        first = (
            _value_noise(grids[0], u + 64, v + 64) * 0.7
            + _value_noise(grids[0], 2.3 * u + 64, 2.3 * v + 64) * 0.3
        )
        second = _value_noise(grids[1], u + 64, v + 64)
        if fill.pattern == "floral":
            out[second > 0.68] = c2 * 0.8
            out[first > 0.6] = c1
            out[first > 0.75] = np.clip(c1 * 0.6 + c2 * 0.4, 0, 1)
        else:
            out[first > 0.55] = c1
            out[second > 0.62] = c2
    if fill.pleats:
        out *= (1.0 - fill.pleats * (0.5 + 0.5 * np.cos(2 * math.pi * x / 0.22)))[:, None]
    if fill.texture:
        noise = _fabric_noise()
        out += fill.texture * noise[(py + fill.seed) % 256, (px + fill.seed // 256) % 256][:, None]
    return out


@dataclass
class FigureLayers:
    """A figure box-filtered to output size: colour premultiplied by coverage, and part ids."""

    color: np.ndarray  # float32 (h, w, 3)
    coverage: np.ndarray  # float32 (h, w), fraction of supersamples inside the figure
    parts: np.ndarray  # int (h, w), 1-based index into Sketch.parts, 0 outside the figure


def _paint_figure(sketch: Sketch, body: Body, width: int, height: int, light: float) -> FigureLayers:
    big_w, big_h = width * SUPERSAMPLE, height * SUPERSAMPLE
    ids = Image.new("L", (big_w, big_h), 0)
    draw = ImageDraw.Draw(ids)
    for index, part in enumerate(sketch.parts, start=1):
        for polygon in part.polygons:
            if len(polygon) >= 3:
                draw.polygon(polygon, fill=index)
    partmap = np.asarray(ids)

    flat = partmap.ravel()
    order = np.argsort(flat, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=len(sketch.parts) + 1))])
    rgb = np.zeros((flat.size, 3), np.float32)
    for index, part in enumerate(sketch.parts, start=1):
        pixels = order[bounds[index] : bounds[index + 1]]
        if pixels.size == 0:
            continue
        py, px = np.divmod(pixels, big_w)
        x = (px - body.cx) / body.unit
        y = (py - body.top) / body.unit
        rgb[pixels] = _pattern_colors(part.fill, x.astype(np.float32), y.astype(np.float32), px, py)
    rgb = rgb.reshape(big_h, big_w, 3)

    # Rim darkening, dark seams between parts and a side light give the flat shapes some depth.
    inside = partmap > 0
    silhouette = Image.fromarray(inside.astype(np.uint8) * 255, "L").filter(
        ImageFilter.GaussianBlur(0.06 * body.unit)
    )
    depth = np.asarray(silhouette, dtype=np.float32) / 255.0
    shade = 0.62 + 0.38 * np.clip((depth - 0.5) * 2.2, 0.0, 1.0)
    seams = np.zeros_like(inside)
    seams[:, 1:] |= partmap[:, 1:] != partmap[:, :-1]
    seams[:, :-1] |= partmap[:, 1:] != partmap[:, :-1]
    seams[1:, :] |= partmap[1:, :] != partmap[:-1, :]
    seams[:-1, :] |= partmap[1:, :] != partmap[:-1, :]
    shade[seams & inside] *= 0.6
    columns = np.arange(big_w, dtype=np.float32)
    shade *= 1.0 + light * np.clip((columns - body.cx) / (1.5 * body.unit), -1.0, 1.0)[None, :]
    rgb = np.clip(rgb * shade[:, :, None], 0.0, 1.0) * inside[:, :, None]

    # Image.reduce averages each SUPERSAMPLE x SUPERSAMPLE block, as a box filter.
    color_image = Image.fromarray((rgb * 255).round().astype(np.uint8), "RGB").reduce(SUPERSAMPLE)
    coverage_image = Image.fromarray(inside.astype(np.uint8) * 255, "L").reduce(SUPERSAMPLE)
    color = np.asarray(color_image, dtype=np.float32) / 255.0
    coverage = np.asarray(coverage_image, dtype=np.float32) / 255.0
    blocks = (
        partmap.reshape(height, SUPERSAMPLE, width, SUPERSAMPLE)
        .transpose(0, 2, 1, 3)
        .reshape(height, width, -1)
    )
    # Each output pixel takes the part that covers most of its supersamples.
    parts = blocks[:, :, 0].astype(np.int32)
    mixed = (blocks != blocks[:, :, :1]).any(axis=2)
    candidates = blocks[mixed]
    votes = np.stack(
        [(candidates == candidates[:, [k]]).sum(axis=1) for k in range(candidates.shape[1])], axis=1
    )
    votes[candidates == 0] = -1
    parts[mixed] = candidates[np.arange(len(candidates)), votes.argmax(axis=1)]
    parts[coverage < 0.5] = 0
    return FigureLayers(color, coverage, parts)


# ----------------------------------------------------------------------------------------------
# Backgrounds


@lru_cache(maxsize=None)
def _photo(name: str) -> np.ndarray:
    import skimage.data

    image = getattr(skimage.data, PHOTO_FAMILIES[name])()
    if name == "motorcycle":
        image = image[0]
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    return np.ascontiguousarray(image.astype(np.uint8))


def _random_color(rng: np.random.Generator, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    return rng.uniform(low, high, size=3).astype(np.float32)


def _photo_background(rng: np.random.Generator, name: str, width: int, height: int) -> np.ndarray:
    photo = _photo(name)
    photo_h, photo_w = photo.shape[:2]
    aspect = width / height
    crop_h = min(photo_h, photo_w / aspect) * rng.uniform(0.4, 1.0)
    crop_w = crop_h * aspect
    x0 = rng.uniform(0, photo_w - crop_w)
    y0 = rng.uniform(0, photo_h - crop_h)
    mode = "L" if photo.ndim == 2 else "RGB"
    crop = Image.fromarray(photo, mode).resize(
        (width, height), Image.Resampling.BILINEAR, box=(x0, y0, x0 + crop_w, y0 + crop_h)
    )
    image = np.asarray(crop, dtype=np.float32) / 255.0
    if image.ndim == 2:
        dark, bright = _random_color(rng, 0.0, 0.35), _random_color(rng, 0.6, 1.0)
        image = dark + (bright - dark) * image[:, :, None]
    if rng.random() < 0.5:
        image = image[:, ::-1]
    contrast = rng.uniform(0.65, 1.05)
    image = (image - image.mean()) * contrast + image.mean()
    return image * rng.uniform(0.85, 1.15, size=3).astype(np.float32) * rng.uniform(0.8, 1.15)


def _smooth_noise(rng: np.random.Generator, width: int, height: int, cells: int) -> np.ndarray:
    small = rng.random((max(2, cells * height // width), cells)).astype(np.float32)
    return np.asarray(Image.fromarray(small, "F").resize((width, height), Image.Resampling.BICUBIC))


def _unit_grids(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the row and column coordinates of every pixel, each scaled to [0, 1]."""
    return np.meshgrid(
        np.linspace(0.0, 1.0, height, dtype=np.float32),
        np.linspace(0.0, 1.0, width, dtype=np.float32),
        indexing="ij",
    )


def _studio_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    rows, cols = _unit_grids(width, height)
    top, bottom = _random_color(rng, 0.35, 1.0), _random_color(rng, 0.2, 0.9)
    image = top + (bottom - top) * rows[:, :, None]
    vignette = 1.0 - rng.uniform(0.15, 0.45) * ((cols - 0.5) ** 2 + (rows - 0.45) ** 2) * 2
    return image * vignette[:, :, None]


def _room_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    rows, cols = _unit_grids(width, height)
    wall = _random_color(rng, 0.3, 0.95)
    floor = _random_color(rng, 0.15, 0.6)
    horizon = rng.uniform(0.6, 0.85)
    image = np.broadcast_to(wall, (height, width, 3)).copy()
    if rng.random() < 0.5:
        period = rng.uniform(0.04, 0.12)
        image *= (1.0 - 0.12 * ((cols / period) % 1.0 < 0.5))[:, :, None]

    # Floor planks converge towards the horizon.
    on_floor = rows > horizon
    depth = np.clip((rows - horizon) / (1.0 - horizon), 0, 1)
    planks = 1.0 - 0.15 * (((cols - 0.5) / (0.15 + depth) * 4) % 1.0 < 0.08)
    image[on_floor] = (floor * (planks * (0.8 + 0.3 * depth))[:, :, None])[on_floor]
    image[np.abs(rows - horizon) < 0.012] = 0.9

    if rng.random() < 0.6:
        x0, y0 = rng.uniform(0.05, 0.6), rng.uniform(0.08, horizon - 0.35)
        frame = (cols > x0) & (cols < x0 + 0.3) & (rows > y0) & (rows < y0 + 0.25)
        image[frame] = _random_color(rng, 0.4, 1.0)
    return image


def _street_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    image = np.empty((height, width, 3), np.float32)
    image[:] = _random_color(rng, 0.55, 1.0)
    scale = width / 192
    x = 0
    while x < width:
        block_w = int(rng.integers(width // 6, width // 2))
        roof = int(rng.uniform(0.05, 0.5) * height)
        color = _random_color(rng, 0.2, 0.85)
        image[roof:, x : x + block_w] = color
        window = color * rng.uniform(0.4, 0.7)
        step_y, step_x = max(3, round(14 * scale)), max(3, round(12 * scale))
        for wy in range(roof + step_y // 2, int(0.75 * height), step_y):
            for wx in range(x + step_x // 3, x + block_w - step_x // 2, step_x):
                image[wy : wy + step_y // 2, wx : wx + step_x // 2] = window
        x += block_w
    road = int(rng.uniform(0.75, 0.9) * height)
    image[road:] = _random_color(rng, 0.25, 0.55)
    image[road : road + max(1, round(3 * scale))] = 0.85
    return image


def _noise_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    colors = [_random_color(rng, 0.1, 1.0) for _ in range(3)]
    first = _smooth_noise(rng, width, height, int(rng.integers(3, 10)))
    second = _smooth_noise(rng, width, height, int(rng.integers(12, 30)))
    mix = np.clip(0.7 * first + 0.3 * second, 0, 1)[:, :, None]
    return np.where(
        mix < 0.5,
        colors[0] + (colors[1] - colors[0]) * mix * 2,
        colors[1] + (colors[2] - colors[1]) * (mix - 0.5) * 2,
    )


def _bokeh_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Return blurred discs of light over a dark or coloured gradient."""
    rows, _ = _unit_grids(width, height)
    base = _random_color(rng, 0.05, 0.5)
    gradient = np.clip(base + 0.2 * rows[:, :, None], 0, 1)
    canvas = Image.fromarray((gradient * 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(canvas, "RGBA")
    for _ in range(int(rng.integers(15, 40))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.02, 0.1) * width
        color = tuple(int(c) for c in rng.integers(120, 256, size=3)) + (int(rng.integers(60, 160)),)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=color)
    canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 4.0) * width / 192))
    return np.asarray(canvas, dtype=np.float32) / 255.0


_PROCEDURAL_BACKGROUNDS = {
    "studio": _studio_background,
    "room": _room_background,
    "street": _street_background,
    "noise": _noise_background,
    "bokeh": _bokeh_background,
}


def render_background(rng: np.random.Generator, family: str, width: int, height: int) -> np.ndarray:
    """Return a float32 RGB background in [0, 1] from one background family."""
    if family in PHOTO_FAMILIES:
        image = _photo_background(rng, family, width, height)
    else:
        image = _PROCEDURAL_BACKGROUNDS[family](rng, width, height)
    image = np.clip(image, 0.0, 1.0)
    # A slight defocus, as in photos taken with the figure in focus.
    blurred = Image.fromarray((image * 255).round().astype(np.uint8), "RGB").filter(
        ImageFilter.GaussianBlur(rng.uniform(0.3, 1.6))
    )
    return np.asarray(blurred, dtype=np.float32) / 255.0


# ----------------------------------------------------------------------------------------------
# Samples and annotations


@dataclass
class Sample:
    """One generated image with its ground truth."""

    image: np.ndarray  # uint8 (h, w, 3)
    mask: np.ndarray  # bool (h, w), figure including hair, garments and accessories
    labels: np.ndarray  # uint8 (h, w), see the module docstring
    garments: list[Garment]
    instance_masks: list[np.ndarray]  # visible part of each garment, bool (h, w)
    background: str


def choose_background(params: DemoParams, style_index: int, image_index: int) -> str:
    """Return the background family of one image: its style's own with probability background_bias."""
    rng = _image_rng(params, style_index, image_index, stream=1)
    return _choose_background(rng, params, style_index)


def _choose_background(rng: np.random.Generator, params: DemoParams, style_index: int) -> str:
    # Both numbers are always drawn, so changing background_bias changes only the family choice.
    draw = rng.random()
    other = int(rng.integers(len(BACKGROUND_FAMILIES)))
    return background_family(style_index) if draw < params.background_bias else BACKGROUND_FAMILIES[other]


def _image_rng(params: DemoParams, style_index: int, image_index: int, stream: int) -> np.random.Generator:
    # One generator per image and stream, so an image does not depend on the others or their order.
    return np.random.default_rng([params.seed, style_index, image_index, stream])


def render_sample(params: DemoParams, style_index: int, image_index: int) -> Sample:
    """Render image `image_index` of style `style_index`, with its mask, labels and garment masks."""
    style = STYLE_NAMES[style_index]
    figure_rng = _image_rng(params, style_index, image_index, stream=0)
    background_rng = _image_rng(params, style_index, image_index, stream=1)
    width, height = params.width, params.height

    outfit = _sample_outfit(figure_rng, style, params.styles)
    hand_bag = outfit.bag in ("handbag", "clutch")
    body = _pose_body(
        figure_rng,
        width * SUPERSAMPLE,
        height * SUPERSAMPLE,
        keep_left_hand=hand_bag and outfit.bag_side == -1,
        keep_right_hand=hand_bag and outfit.bag_side == 1,
    )
    sketch = _draw_figure(figure_rng, body, outfit)
    layers = _paint_figure(sketch, body, width, height, light=figure_rng.uniform(-0.12, 0.12))

    family = _choose_background(background_rng, params, style_index)
    background = render_background(background_rng, family, width, height)
    background = _cast_shadow(background, body, background_rng)
    image = layers.color + (1.0 - layers.coverage[:, :, None]) * background
    image *= background_rng.uniform(0.95, 1.05, size=3).astype(np.float32)
    image = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)

    owners = np.array([-2] + [part.owner for part in sketch.parts])
    label_values = np.array(
        [BACKGROUND_LABEL]
        + [
            PERSON_LABEL if part.owner < 0 else sketch.garments[part.owner].category + 1
            for part in sketch.parts
        ],
        dtype=np.uint8,
    )
    owner_map = owners[layers.parts]
    return Sample(
        image=image,
        mask=layers.parts > 0,
        labels=label_values[layers.parts],
        garments=sketch.garments,
        instance_masks=[owner_map == index for index in range(len(sketch.garments))],
        background=family,
    )


def _cast_shadow(background: np.ndarray, body: Body, rng: np.random.Generator) -> np.ndarray:
    """Darken the floor under the feet with a soft elliptic shadow."""
    height, width = background.shape[:2]
    cx, cy = body.cx / SUPERSAMPLE, body.y(7.72) / SUPERSAMPLE
    if cy > height + 0.2 * body.unit / SUPERSAMPLE:
        return background
    rx, ry = 1.3 * body.unit / SUPERSAMPLE, 0.22 * body.unit / SUPERSAMPLE
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    falloff = np.exp(-(((xs - cx) / rx) ** 2) - ((ys - cy) / ry) ** 2)
    return background * (1.0 - rng.uniform(0.2, 0.45) * falloff)[:, :, None]


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _drop_collinear_points(ring: np.ndarray) -> np.ndarray:
    before = np.roll(ring, 1, axis=0)
    after = np.roll(ring, -1, axis=0)
    cross = (ring[:, 0] - before[:, 0]) * (after[:, 1] - ring[:, 1]) - (ring[:, 1] - before[:, 1]) * (
        after[:, 0] - ring[:, 0]
    )
    return ring[np.abs(cross) > 1e-9]


def mask_polygons(mask: np.ndarray) -> list[list[float]]:
    """Trace a binary mask as COCO polygons [x1, y1, x2, y2, ...], one per outer contour.

    Holes are joined to their outer ring by a cut that runs there and back, which the even-odd
    polygon fill of pycocotools leaves empty, so the polygons keep the holes.
    """
    padded = np.pad(mask.astype(np.uint8), 1)
    rings = []
    for contour in find_contours(padded, 0.5):
        # Contour points lie between pixel centres; pixel (i, j) covers [j, j + 1) x [i, i + 1).
        ring = _drop_collinear_points(contour[:-1, ::-1] - 1.0 + 0.5)
        if len(ring) >= 3:
            rings.append(ring)
    if not rings:
        return []
    areas = [_signed_area(ring) for ring in rings]
    outer_sign = np.sign(areas[int(np.argmax(np.abs(areas)))])
    # Smallest outer rings first, so that a hole joins the innermost ring around it.
    by_size = sorted(range(len(rings)), key=lambda k: abs(areas[k]))
    outers = [rings[k] for k in by_size if np.sign(areas[k]) == outer_sign]
    holes = [rings[k] for k in by_size if np.sign(areas[k]) != outer_sign]
    for hole in holes:
        for index, outer in enumerate(outers):
            if points_in_poly(hole[:1], outer)[0]:
                distances = ((outer[:, None, :] - hole[None, :, :]) ** 2).sum(axis=2)
                i, j = np.unravel_index(int(distances.argmin()), distances.shape)
                outers[index] = np.concatenate([outer[: i + 1], hole[j:], hole[: j + 1], outer[i:]])
                break
    return [[round(float(v), 2) for v in ring.ravel()] for ring in outers]


def _annotations(sample: Sample, image_id: int) -> list[dict[str, Any]]:
    annotations = []
    for index, (garment, visible) in enumerate(zip(sample.garments, sample.instance_masks)):
        area = int(visible.sum())
        if area < MIN_INSTANCE_AREA:
            continue
        polygons = mask_polygons(visible)
        if not polygons:
            continue
        ys, xs = np.nonzero(visible)
        annotations.append(
            {
                "id": image_id * 100 + index,
                "image_id": image_id,
                "category_id": garment.category,
                "segmentation": polygons,
                "bbox": [
                    int(xs.min()),
                    int(ys.min()),
                    int(xs.max() - xs.min() + 1),
                    int(ys.max() - ys.min() + 1),
                ],
                "area": area,
                "iscrowd": 0,
                "attribute_ids": list(garment.attributes),
            }
        )
    return annotations


def _coco_document(images: list[dict], annotations: list[dict]) -> dict[str, Any]:
    return {
        "info": {
            "description": "Synthetic fashion images with garment instance masks (fashionbg demo)",
            "version": "1.0",
            "year": 2023,
            "contributor": "fashionbg",
            "date_created": "",
        },
        "licenses": [
            {
                "id": 1,
                "name": "CC0 1.0 (synthetic data)",
                "url": "https://creativecommons.org/publicdomain/zero/1.0/",
            }
        ],
        "images": images,
        "annotations": annotations,
        "categories": [
            {
                "id": index,
                "name": name,
                "supercategory": supercategory,
                "level": 2,
                "taxonomy_id": f"demo-{index}",
            }
            for index, (name, supercategory) in enumerate(CATEGORIES)
        ],
        "attributes": [
            {"id": index, "name": name, "supercategory": supercategory, "level": 1}
            for index, (name, supercategory) in enumerate(ATTRIBUTES)
        ],
    }


# ----------------------------------------------------------------------------------------------
# Dataset


def assign_splits(params: DemoParams) -> dict[tuple[int, int], str]:
    """Map (style index, image index) to its split, stratified per style."""
    train, val, _ = split_counts(params.images_per_style, params.split)
    assignment = {}
    for style_index in range(params.styles):
        rng = np.random.default_rng([params.seed, style_index, 2**32 - 1])
        order = rng.permutation(params.images_per_style)
        for rank, image_index in enumerate(order):
            if rank < train:
                split = "train"
            elif rank < train + val:
                split = "val"
            else:
                split = "test"
            assignment[(style_index, int(image_index))] = split
    return assignment


def _write_dataset(root: Path, params: DemoParams) -> dict[str, Any]:
    styles = STYLE_NAMES[: params.styles]
    splits = assign_splits(params)
    rows: dict[str, list[str]] = {name: [] for name in SPLIT_NAMES}
    coco_images: dict[str, list[dict]] = {name: [] for name in SPLIT_NAMES}
    coco_annotations: dict[str, list[dict]] = {name: [] for name in SPLIT_NAMES}
    records = []
    total = params.styles * params.images_per_style
    with tqdm(total=total, desc="demo images", unit="image") as progress:
        for style_index, style in enumerate(styles):
            for folder in (root / style, root / "masks" / style, root / "labels" / style):
                folder.mkdir(parents=True, exist_ok=True)
            for image_index in range(params.images_per_style):
                image_id = style_index * params.images_per_style + image_index
                stem = f"{style}_{image_id:05d}"
                relative = f"{style}/{stem}.jpg"
                sample = render_sample(params, style_index, image_index)
                Image.fromarray(sample.image, "RGB").save(root / relative, "JPEG", quality=95)
                Image.fromarray(sample.mask.astype(np.uint8) * 255, "L").save(
                    root / "masks" / style / f"{stem}.png"
                )
                Image.fromarray(sample.labels, "L").save(root / "labels" / style / f"{stem}.png")

                split = splits[(style_index, image_index)]
                rows[split].append(f"{relative},{style}")
                coco_images[split].append(
                    {
                        "id": image_id,
                        "file_name": relative,
                        "width": params.width,
                        "height": params.height,
                        "license": 1,
                    }
                )
                coco_annotations[split].extend(_annotations(sample, image_id))
                records.append(
                    {"path": relative, "style": style, "split": split, "background": sample.background}
                )
                progress.update()

    for split in SPLIT_NAMES:
        write_text(root / f"{split}.csv", "path,label\n" + "".join(f"{row}\n" for row in rows[split]))
        write_json(
            root / "annotations" / f"instances_{split}.json",
            _coco_document(coco_images[split], coco_annotations[split]),
        )
    summary = {
        "images": total,
        "styles": list(styles),
        "splits": {split: len(rows[split]) for split in SPLIT_NAMES},
        "annotations": {split: len(coco_annotations[split]) for split in SPLIT_NAMES},
    }
    write_json(
        root / "demo.json",
        {
            "params": params.to_json(),
            "counts": summary,
            "background_families": list(BACKGROUND_FAMILIES),
            "style_background_families": {
                style: background_family(index) for index, style in enumerate(styles)
            },
            "label_values": {
                "background": BACKGROUND_LABEL,
                **{name: index + 1 for index, (name, _) in enumerate(CATEGORIES)},
                "person": PERSON_LABEL,
            },
            "images": records,
        },
    )
    return summary


def _replace_directory(source: Path, target: Path) -> None:
    """Move `source` onto `target`, removing what `target` held before."""
    old = target.with_name(f".{target.name}.{os.getpid()}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.is_dir() and not target.is_symlink():
        os.replace(target, old)
    elif target.exists() or target.is_symlink():
        target.unlink()
    os.replace(source, target)
    if old.exists():
        shutil.rmtree(old)


def generate_demo(
    out_dir: Path,
    *,
    styles: int = 8,
    images_per_style: int = 50,
    width: int = 192,
    height: int = 256,
    seed: int = 0,
    background_bias: float = 0.0,
    split: tuple[float, float, float] | Mapping[str, float] = DEFAULT_SPLIT,
) -> dict[str, Any]:
    """Generate the synthetic dataset into `out_dir`, replacing its previous content.

    The same parameters give byte-identical files. Files are written into a hidden sibling folder
    that replaces `out_dir` only once complete. Returns counts of images, splits and annotations.
    """
    params = validate_params(
        styles=styles,
        images_per_style=images_per_style,
        width=width,
        height=height,
        seed=seed,
        background_bias=background_bias,
        split=split,
    )
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        summary = _write_dataset(staging, params)
        _replace_directory(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return {**summary, "out_dir": str(out_dir)}


DEMO_DIR = Path("data/raw/demo")
_PARAM_KEYS = ("styles", "images_per_style", "width", "height", "seed", "background_bias", "split")


def main(params: Mapping[str, Any]) -> None:
    """Generate the demo dataset from params["demo"] into data/raw/demo under the current directory."""
    section = params.get("demo")
    if not isinstance(section, Mapping):
        raise ConfigError(
            f"params must have a 'demo' mapping with keys {', '.join(_PARAM_KEYS)}, got {section!r}"
        )
    unknown = sorted(set(section) - set(_PARAM_KEYS))
    if unknown:
        raise ConfigError(f"demo has unknown keys {unknown}; remove them (allowed: {', '.join(_PARAM_KEYS)})")
    started = time.perf_counter()
    summary = generate_demo(DEMO_DIR, **{key: section[key] for key in _PARAM_KEYS if key in section})
    _logger.info(
        "Wrote %d demo images of %d styles to %s in %.1f s (train %d, val %d, test %d), "
        "%d garment annotations",
        summary["images"],
        len(summary["styles"]),
        DEMO_DIR,
        time.perf_counter() - started,
        summary["splits"]["train"],
        summary["splits"]["val"],
        summary["splits"]["test"],
        sum(summary["annotations"].values()),
    )
