"""The one place that opens image files: mode conversion, EXIF orientation and bad-file detection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import BadImageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
MIN_SIDE = 8  # pixels; smaller images carry no garment detail and break resizing to a square
MAX_ASPECT = 20.0  # long side / short side; beyond this a resize to a square is mostly padding

# Pillow modes that contain one 16-bit sample per pixel. Pillow 13 opens 16-bit grayscale PNG files
# as I;16, and older Pillow versions opened them as I (32-bit integers).
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
WHITE = (255, 255, 255, 255)


def is_image_name(path: Path | str) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _sixteen_to_eight_bit(image: Image.Image) -> Image.Image:
    """Scale 16-bit samples to 8 bits (65535 -> 255, 32768 -> 128) and turn a tRNS colour key into alpha."""
    samples = np.asarray(image, dtype=np.int64)
    gray = Image.fromarray(np.clip((samples + 128) // 257, 0, 255).astype(np.uint8), mode="L")
    key = image.info.get("transparency")
    if isinstance(key, int):
        alpha = Image.fromarray(np.where(samples == key, 0, 255).astype(np.uint8), mode="L")
        gray = Image.merge("LA", (gray, alpha))
    return gray


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; transparent pixels are composited on white.

    Transparency counts in every form Pillow reports it: an alpha band, a palette entry marked
    transparent, or a PNG tRNS colour key on a grayscale or RGB image. CMYK goes through
    Pillow's own conversion, which ignores an embedded ICC profile.
    """
    if image.mode in SIXTEEN_BIT_MODES:
        image = _sixteen_to_eight_bit(image)
    if "transparency" in image.info and image.mode in ("P", "L", "RGB"):
        image = image.convert("RGBA")
    if image.mode in ALPHA_MODES:
        image = Image.alpha_composite(Image.new("RGBA", image.size, WHITE), image.convert("RGBA"))
    return image.convert("RGB")


def _check_pixel_count(path: Path, image: Image.Image) -> None:
    """Raise BadImageError for an image over `Image.MAX_IMAGE_PIXELS`, read at call time.

    Pillow 13 raises DecompressionBombError only above twice that limit and merely warns below it.
    """
    limit = Image.MAX_IMAGE_PIXELS
    pixels = image.width * image.height
    if limit is not None and pixels > limit:
        raise BadImageError(
            path,
            f"image too large ({image.width}x{image.height} = {pixels} pixels, over Pillow's "
            f"decompression-bomb limit of {limit})",
        )


def load_rgb(path: Path | str) -> Image.Image:
    """Open `path` fully decoded as an upright 8-bit RGB image.

    Raises BadImageError for files that are not images, truncated or empty files, decompression
    bombs and images too small or too elongated to train on.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise BadImageError(path, "empty file (0 bytes)")
        with Image.open(path) as image:
            _check_pixel_count(path, image)
            image.load()
            rgb = to_rgb(ImageOps.exif_transpose(image))
    except BadImageError:
        raise
    except FileNotFoundError:
        raise BadImageError(path, "file not found") from None
    except UnidentifiedImageError:
        raise BadImageError(path, "not an image file (Pillow cannot identify it)") from None
    except Image.DecompressionBombError as error:
        raise BadImageError(path, f"image too large ({error})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise BadImageError(path, f"cannot decode image ({error})") from None

    width, height = rgb.size
    if min(width, height) < MIN_SIDE:
        raise BadImageError(path, f"image too small ({width}x{height}, minimum side {MIN_SIDE} pixels)")
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise BadImageError(path, f"image too elongated ({width}x{height}, maximum aspect ratio {MAX_ASPECT:g})")
    return rgb
