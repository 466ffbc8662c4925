"""Background families: crops of scikit-image photos and procedural studio, room, street, noise and bokeh scenes."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

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


def background_family(style_index: int) -> str:
    """Return the background family that images of a style use when background_bias picks it."""
    return BACKGROUND_FAMILIES[style_index % len(BACKGROUND_FAMILIES)]


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
