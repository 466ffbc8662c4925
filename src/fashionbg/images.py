"""The one place that opens image files: mode conversion, EXIF orientation and bad-file detection."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import BadImageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
MIN_SIDE = 8  # pixels; smaller images carry no garment detail and break resizing to a square
MAX_ASPECT = 20.0  # long side / short side; beyond this a resize to a square is mostly padding


def is_image_name(path: Path | str) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; transparent pixels are composited on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return image.convert("RGB")


def load_rgb(path: Path | str) -> Image.Image:
    """Open `path` fully decoded as an upright 8-bit RGB image.

    Raises BadImageError for files that are not images, truncated or empty files, decompression
    bombs and images too small or too elongated to train on.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise BadImageError(path, "empty file (0 bytes)")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                rgb = _to_rgb(upright)
    except BadImageError:
        raise
    except FileNotFoundError:
        raise BadImageError(path, "file not found") from None
    except UnidentifiedImageError:
        raise BadImageError(path, "not an image file (Pillow cannot identify it)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise BadImageError(path, f"image too large (decompression bomb guard: {error})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise BadImageError(path, f"cannot decode image ({error})") from None

    width, height = rgb.size
    if min(width, height) < MIN_SIDE:
        raise BadImageError(path, f"image too small ({width}x{height}, minimum side {MIN_SIDE} pixels)")
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise BadImageError(path, f"image too elongated ({width}x{height}, maximum aspect ratio {MAX_ASPECT:g})")
    return rgb
