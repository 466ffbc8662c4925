"""Drawing a dressed figure: the garment and accessory parts of an outfit in painting order."""

from __future__ import annotations

import math

import numpy as np

from .figure import Body, Fill, Sketch, _ellipse_points, _limb_polygons
from .garments import (
    _arm_widths,
    _bag_polygons,
    _darker,
    _foot_polygon,
    _hair_back_polygons,
    _hair_front_polygons,
    _hat_polygons,
    _leg_widths,
    _length_attribute,
    _outer_polygons,
    _pants_polygons,
    _plain,
    _shoe_polygons,
    _skirt_polygon,
    _sleeve_attribute,
    _sleeve_polygons,
    _strap_polygons,
    _upper_body_polygon,
)
from .outfits import Outfit
from .styles import (
    _PATTERN_ATTRIBUTE,
    DRESS_OPTIONS,
    LOWER_OPTIONS,
    OUTER_OPTIONS,
    UPPER_OPTIONS,
)


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
