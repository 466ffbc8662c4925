"""Training images decoded and resized once per dataset, variant and size, kept as uint8 tensors in data/cache/.

Each row of a cache file is keyed by what its pixels came from (path, the source's sha256 and, for the
rembg variant, rembg's model and fill), so adding or changing images decodes only those images.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import layout
from .errors import BadImageError, DataError
from .fileio import atomic_path
from .images import load_rgb
from .params import get

_logger = logging.getLogger(__name__)

CACHE = Path("data/cache")
FORMAT = 1  # bump when `decode` changes, so that old files are rebuilt
REMBG_INDEX = layout.REMBG / "index.json"


def cache_path(dataset: str, variant: str, size: int, root: Path = CACHE) -> Path:
    return root / f"{dataset}-{variant}-{size}.pt"


def row_keys(rows: list[dict], variant: str) -> list[str]:
    """Return one key per manifest row naming everything its cached pixels depend on."""
    if variant == "original":
        return [json.dumps([row["path"], row["sha256"]]) for row in rows]
    if variant != "rembg":
        raise DataError(f"image cache: unknown variant {variant!r}; use one of {', '.join(layout.VARIANTS)}")
    try:
        index = json.loads(REMBG_INDEX.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise DataError(f"{REMBG_INDEX}: missing or unreadable; run `dvc repro rembg`") from None
    keys = []
    for row in rows:
        made_from = index.get(row["path"])
        if not made_from or made_from.get("sha256") != row["sha256"]:
            raise DataError(
                f"{layout.rembg_image_path(row['path'])}: not made from the manifest's current image "
                f"({REMBG_INDEX} has no matching entry); run `dvc repro rembg`"
            )
        keys.append(json.dumps([row["path"], row["sha256"], made_from.get("model"), made_from.get("fill")]))
    return keys


def decode(path: Path, size: int, variant: str) -> np.ndarray:
    """Decode `path` as RGB and resize it to `size` x `size` (bilinear); return a uint8 CHW array."""
    try:
        image = load_rgb(path)
    except BadImageError as error:
        hint = "run `dvc repro rembg`" if variant == "rembg" else "run `dvc repro prepare`"
        raise BadImageError(path, f"{error.reason}; the manifest lists it, so {hint}") from None
    resized = image.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=None)
    return np.array(resized, dtype=np.uint8).transpose(2, 0, 1)


def _read(path: Path, size: int) -> dict | None:
    if not path.exists():
        return None
    try:
        stored = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except Exception as error:  # a truncated or foreign file: rebuild it
        _logger.warning("%s: unreadable (%s); decoding the images again", path, error)
        return None
    if not isinstance(stored, dict) or stored.get("format") != FORMAT or stored.get("size") != size:
        return None
    return stored


def _threads() -> int:
    return int(os.environ.get("FASHIONBG_THREADS", "0")) or os.cpu_count() or 1


def load(rows: list[dict], dataset: str, variant: str, size: int, root: Path = CACHE) -> torch.Tensor:
    """Return the images of `rows` as a uint8 N x 3 x size x size tensor, in row order.

    Reads the cache file when its keys match. Otherwise decodes the images it lacks, reuses the
    rest and rewrites the file atomically. The tensor returned from a matching file is memory-mapped.
    """
    path = cache_path(dataset, variant, size, root)
    keys = row_keys(rows, variant)
    stored = _read(path, size)
    if stored is not None and stored["keys"] == keys:
        _logger.debug("%s: %d images, all cached", path, len(keys))
        return stored["images"]

    known = {key: i for i, key in enumerate(stored["keys"])} if stored is not None else {}
    images = torch.empty((len(rows), 3, size, size), dtype=torch.uint8)
    missing = []
    for i, key in enumerate(keys):
        j = known.get(key)
        if j is None:
            missing.append(i)
        else:
            images[i] = stored["images"][j]
    sources = [layout.image_path(variant, dataset, rows[i]["path"]) for i in missing]
    # Pillow releases the GIL while decoding and resizing, so threads scale across cores.
    with ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="image-cache") as pool:
        for i, array in zip(missing, pool.map(lambda source: decode(source, size, variant), sources)):
            images[i] = torch.from_numpy(array)
    with atomic_path(path) as partial:
        torch.save({"format": FORMAT, "size": size, "keys": keys, "images": images}, partial)
    _logger.info("%s: %d images decoded, %d reused from the cache", path, len(missing), len(rows) - len(missing))
    return images


def needed(params: dict) -> list[tuple[str, int]]:
    """Return the (variant, size) pairs that the train stage and the grid stages read."""
    pairs = {(get(params, "data.variant", str, choices=layout.VARIANTS), get(params, "train.image_size", int))}
    grid_size = get(params, "grid.train.image_size", int)
    # Every block's variants are cached even when the block lists no models, so that editing a model
    # list never reruns this stage.
    for block in layout.GRID_BLOCKS:
        pairs.update((variant, grid_size) for variant in get(params, f"grid.{block}.variants", list, []))
    return sorted(pairs)


def main(params: dict) -> None:
    """cache stage: build data/cache/<dataset>-<variant>-<size>.pt for every pair `needed` lists."""
    from .prepare import read_manifest

    dataset = get(params, "data.dataset", str)
    rows = read_manifest()
    wanted = {cache_path(dataset, variant, size) for variant, size in needed(params)}
    for path in sorted(CACHE.glob("*.pt")) if CACHE.exists() else []:
        if path not in wanted:
            path.unlink()
            _logger.info("%s: removed, no stage reads it", path)
    for path in sorted(CACHE.glob(".*.partial")) if CACHE.exists() else []:
        path.unlink()  # left by an interrupted run
    for variant, size in needed(params):
        load(rows, dataset, variant, size)
