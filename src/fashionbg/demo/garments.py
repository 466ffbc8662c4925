"""Polygons of garments, shoes, hair, hats and bags on a posed body, in supersampled pixels.

Also the plain and darker fills and the length and sleeve attributes that the drawing uses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .figure import Body, Fill, _ellipse_points, _limb_polygons, _point_along


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
