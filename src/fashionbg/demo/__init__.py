"""Deterministic synthetic fashion dataset: dressed figures over photo and procedural backgrounds.

Label maps use 0 for background, k + 1 for garment category k (0-9: shirt, top, sweater, jacket,
pants, skirt, dress, shoe, bag, hat) and 11 for the person outside garments (skin, hair, scarf, belt).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..errors import ConfigError
from ..fileio import write_json, write_text
from .annotations import MIN_INSTANCE_AREA, _annotations, _coco_document, mask_polygons
from .backgrounds import (
    BACKGROUND_FAMILIES,
    PHOTO_FAMILIES,
    background_family,
    render_background,
)
from .parameters import (
    DEFAULT_SPLIT,
    SPLIT_NAMES,
    DemoParams,
    split_counts,
    validate_params,
)
from .samples import Sample, choose_background, render_sample
from .styles import (
    ATTRIBUTES,
    BACKGROUND_LABEL,
    CATEGORIES,
    PERSON_LABEL,
    STYLE_MIX,
    STYLE_NAMES,
    STYLES,
    StyleSpec,
)

__all__ = [
    "ATTRIBUTES",
    "BACKGROUND_FAMILIES",
    "BACKGROUND_LABEL",
    "CATEGORIES",
    "DEFAULT_SPLIT",
    "DEMO_DIR",
    "MIN_INSTANCE_AREA",
    "PERSON_LABEL",
    "PHOTO_FAMILIES",
    "SPLIT_NAMES",
    "STYLES",
    "STYLE_MIX",
    "STYLE_NAMES",
    "DemoParams",
    "Sample",
    "StyleSpec",
    "assign_splits",
    "background_family",
    "choose_background",
    "generate_demo",
    "main",
    "mask_polygons",
    "render_background",
    "render_sample",
    "split_counts",
    "validate_params",
]

_logger = logging.getLogger(__name__)


def assign_splits(params: DemoParams) -> dict[tuple[int, int], str]:
    """Map (style index, image index) to its split, stratified per style."""
    train, val, _ = split_counts(params.images_per_style, params.split)
    assignment = {}
    for style_index in range(params.styles):
        rng = np.random.default_rng([params.seed, style_index, 2**32 - 1])
        order = rng.permutation(params.images_per_style)
        for rank, image_index in enumerate(order):
            if rank < train:
                split = "train"
            elif rank < train + val:
                split = "val"
            else:
                split = "test"
            assignment[(style_index, int(image_index))] = split
    return assignment


def _write_dataset(root: Path, params: DemoParams) -> dict[str, Any]:
    styles = STYLE_NAMES[: params.styles]
    splits = assign_splits(params)
    rows: dict[str, list[str]] = {name: [] for name in SPLIT_NAMES}
    coco_images: dict[str, list[dict]] = {name: [] for name in SPLIT_NAMES}
    coco_annotations: dict[str, list[dict]] = {name: [] for name in SPLIT_NAMES}
    records = []
    total = params.styles * params.images_per_style
    with tqdm(total=total, desc="demo images", unit="image") as progress:
        for style_index, style in enumerate(styles):
            for folder in (root / style, root / "masks" / style, root / "labels" / style):
                folder.mkdir(parents=True, exist_ok=True)
            for image_index in range(params.images_per_style):
                image_id = style_index * params.images_per_style + image_index
                stem = f"{style}_{image_id:05d}"
                relative = f"{style}/{stem}.jpg"
                sample = render_sample(params, style_index, image_index)
                Image.fromarray(sample.image, "RGB").save(root / relative, "JPEG", quality=95)
                Image.fromarray(sample.mask.astype(np.uint8) * 255, "L").save(
                    root / "masks" / style / f"{stem}.png"
                )
                Image.fromarray(sample.labels, "L").save(root / "labels" / style / f"{stem}.png")

                split = splits[(style_index, image_index)]
                rows[split].append(f"{relative},{style}")
                coco_images[split].append(
                    {
                        "id": image_id,
                        "file_name": relative,
                        "width": params.width,
                        "height": params.height,
                        "license": 1,
                    }
                )
                coco_annotations[split].extend(_annotations(sample, image_id))
                records.append(
                    {"path": relative, "style": style, "split": split, "background": sample.background}
                )
                progress.update()

    for split in SPLIT_NAMES:
        write_text(root / f"{split}.csv", "path,label\n" + "".join(f"{row}\n" for row in rows[split]))
        write_json(
            root / "annotations" / f"instances_{split}.json",
            _coco_document(coco_images[split], coco_annotations[split]),
        )
    summary = {
        "images": total,
        "styles": list(styles),
        "splits": {split: len(rows[split]) for split in SPLIT_NAMES},
        "annotations": {split: len(coco_annotations[split]) for split in SPLIT_NAMES},
    }
    write_json(
        root / "demo.json",
        {
            "params": params.to_json(),
            "counts": summary,
            "background_families": list(BACKGROUND_FAMILIES),
            "style_background_families": {
                style: background_family(index) for index, style in enumerate(styles)
            },
            "label_values": {
                "background": BACKGROUND_LABEL,
                **{name: index + 1 for index, (name, _) in enumerate(CATEGORIES)},
                "person": PERSON_LABEL,
            },
            "images": records,
        },
    )
    return summary


def _replace_directory(source: Path, target: Path) -> None:
    """Move `source` onto `target`, removing what `target` held before."""
    old = target.with_name(f".{target.name}.{os.getpid()}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.is_dir() and not target.is_symlink():
        os.replace(target, old)
    elif target.exists() or target.is_symlink():
        target.unlink()
    os.replace(source, target)
    if old.exists():
        shutil.rmtree(old)


def generate_demo(
    out_dir: Path,
    *,
    styles: int = 8,
    images_per_style: int = 50,
    width: int = 192,
    height: int = 256,
    seed: int = 0,
    background_bias: float = 0.0,
    split: tuple[float, float, float] | Mapping[str, float] = DEFAULT_SPLIT,
) -> dict[str, Any]:
    """Generate the synthetic dataset into `out_dir`, replacing its previous content.

    The same parameters give byte-identical files. Files are written into a hidden sibling folder
    that replaces `out_dir` only once complete. Returns counts of images, splits and annotations.
    """
    params = validate_params(
        styles=styles,
        images_per_style=images_per_style,
        width=width,
        height=height,
        seed=seed,
        background_bias=background_bias,
        split=split,
    )
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        summary = _write_dataset(staging, params)
        _replace_directory(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return {**summary, "out_dir": str(out_dir)}


DEMO_DIR = Path("data/raw/demo")
_PARAM_KEYS = ("styles", "images_per_style", "width", "height", "seed", "background_bias", "split")


def main(params: Mapping[str, Any]) -> None:
    """Generate the demo dataset from params["demo"] into data/raw/demo under the current directory."""
    section = params.get("demo")
    if not isinstance(section, Mapping):
        raise ConfigError(
            f"params must have a 'demo' mapping with keys {', '.join(_PARAM_KEYS)}, got {section!r}"
        )
    unknown = sorted(set(section) - set(_PARAM_KEYS))
    if unknown:
        raise ConfigError(f"demo has unknown keys {unknown}; remove them (allowed: {', '.join(_PARAM_KEYS)})")
    started = time.perf_counter()
    summary = generate_demo(DEMO_DIR, **{key: section[key] for key in _PARAM_KEYS if key in section})
    _logger.info(
        "Wrote %d demo images of %d styles to %s in %.1f s (train %d, val %d, test %d), "
        "%d garment annotations",
        summary["images"],
        len(summary["styles"]),
        DEMO_DIR,
        time.perf_counter() - started,
        summary["splits"]["train"],
        summary["splits"]["val"],
        summary["splits"]["test"],
        sum(summary["annotations"].values()),
    )
