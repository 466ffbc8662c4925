"""One generated sample: a dressed figure composited over a background, with its mask and label map.

Label values are described in the docstring of the fashionbg.demo package.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backgrounds import BACKGROUND_FAMILIES, background_family, render_background
from .drawing import _draw_figure
from .figure import SUPERSAMPLE, Body, Garment, _pose_body
from .outfits import _sample_outfit
from .painting import _paint_figure
from .parameters import DemoParams
from .styles import BACKGROUND_LABEL, PERSON_LABEL, STYLE_NAMES


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
