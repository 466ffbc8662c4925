"""Paths shared by the stages: where each dataset, variant and output lives, relative to the repo root."""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

RAW = Path("data/raw")
PREPARED = Path("data/prepared")
MANIFEST = PREPARED / "manifest.csv"
CLASSES = PREPARED / "classes.json"
REMBG = Path("data/rembg")
REMBG_IMAGES = REMBG / "images"
REMBG_MASKS = REMBG / "masks"
METRICS = Path("metrics")
MODELS = Path("models")

VARIANTS = ("original", "rembg")
# The blocks under params.yaml `grid` and the init each one trains with. dvc.yaml has one matrix stage
# per block (grid-scratch, grid-augmented, grid-pretrained), so every cell of each cross product can run.
GRID_BLOCKS = {"scratch": "random", "augmented": "random", "pretrained": "imagenet"}


def raw_root(dataset: str) -> Path:
    return RAW / dataset


def rembg_image_path(relpath: str, root: Path = REMBG_IMAGES) -> Path:
    """Return the background-removed image of the source image at `relpath` (a POSIX path).

    The source's own extension is kept in the name (`a/b.jpg` -> `a/b.jpg.png`) so that two source
    files differing only in extension never share an output.
    """
    return root / f"{relpath}.png"


def rembg_mask_path(relpath: str, root: Path = REMBG_MASKS) -> Path:
    return root / f"{relpath}.png"


def image_path(variant: str, dataset: str, relpath: str) -> Path:
    """Return the file a stage reads for image `relpath` of `dataset` in `variant`."""
    if variant == "original":
        return raw_root(dataset) / relpath
    if variant == "rembg":
        return rembg_image_path(relpath)
    raise ConfigError(f"data.variant: invalid value {variant!r}; use one of {', '.join(VARIANTS)}")
