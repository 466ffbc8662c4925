"""Drawing primitives, the Sketch that collects garment parts as polygons, and the posed Body."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .styles import _ATTRIBUTE_IDS, CATEGORIES

SUPERSAMPLE = 3  # figures are drawn at this multiple of the output size, then box-filtered


# ----------------------------------------------------------------------------------------------
# Drawing primitives


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
