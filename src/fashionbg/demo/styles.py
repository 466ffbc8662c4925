"""Style names, garment categories, attributes and label values, and the per-style garment tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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

# Probability that one group of choices (silhouettes, palette, patterns, shoes, accessories, hair)
# comes from another randomly chosen style, so that classes overlap.
STYLE_MIX = 0.12


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
