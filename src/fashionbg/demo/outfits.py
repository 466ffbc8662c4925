"""Random outfit choices for one figure: garments, accessories, hair and fills drawn from a style."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .figure import Fill
from .styles import (
    HAIR_COLORS,
    NEUTRALS,
    SKIN_TONES,
    STYLE_MIX,
    STYLE_NAMES,
    STYLES,
    StyleSpec,
)


def _hex_color(text: str) -> np.ndarray:
    return np.array([int(text[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float32) / 255.0


def _pick(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    names = list(weights)
    probabilities = np.array([weights[name] for name in names], dtype=float)
    return names[int(rng.choice(len(names), p=probabilities / probabilities.sum()))]


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
