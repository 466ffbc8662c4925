"""prepare stage: validate every image of the selected dataset once and write the manifest both variants use.

Writes data/prepared/manifest.csv (path, label, split, width, height, sha256), data/prepared/classes.json,
data/prepared/validation.json (what the validation rules were), metrics/prepare.json (counts, with
the image files that no split CSV lists) and metrics/skipped.json (each skipped file with its reason).

A rerun decodes only new or changed images: an image whose path and SHA-256 match a row of the
previous manifest, validated under the same rules, keeps that row's size without being decoded again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import posixpath
from collections import Counter
from pathlib import Path

import PIL
from PIL import Image
from tqdm import tqdm

from . import images, layout
from .datasets import SPLITS, Record, read_dataset, stratified_split
from .errors import BadImageError, DataError
from .fileio import write_json, write_text
from .images import load_rgb
from .params import get

_logger = logging.getLogger(__name__)

MANIFEST_COLUMNS = ("path", "label", "split", "width", "height", "sha256")
SKIPPED_REPORT = layout.METRICS / "skipped.json"
VALIDATION = layout.PREPARED / "validation.json"
LOGGED_SKIPS = 5  # skipped files named in the log; metrics/skipped.json lists them all


def read_manifest(path: Path = layout.MANIFEST) -> list[dict]:
    if not path.exists():
        raise DataError(f"{path}: manifest not found; run `dvc repro prepare` first")
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_classes(path: Path = layout.CLASSES) -> list[str]:
    return json.loads(path.read_text(encoding="utf-8"))["classes"]


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:  # a missing or unreadable file, which load_rgb then reports by name
        return None


def validation_rules() -> dict:
    """Describe what decides whether an image passes: the decoding code and Pillow's version and pixel limit."""
    code = hashlib.sha256(Path(images.__file__).read_bytes()).hexdigest()
    return {"images_py_sha256": code, "pillow": PIL.__version__, "max_image_pixels": Image.MAX_IMAGE_PIXELS}


def previous_rows(rules: dict) -> dict[str, dict]:
    """Return the previous manifest's rows by path, or nothing unless they were validated under `rules`."""
    try:
        if json.loads(VALIDATION.read_text(encoding="utf-8")).get("rules") != rules:
            return {}
        return {row["path"]: row for row in read_manifest()}
    except (OSError, ValueError, KeyError, DataError):  # no earlier run, or one interrupted while writing
        return {}


def validate(root: Path, records: list[Record], on_bad_image: str,
             known: dict[str, dict] | None = None) -> tuple[list[dict], list[dict], int]:
    """Validate each record's image and return manifest rows, skipped entries and the number of images decoded.

    `known` maps paths to rows of an earlier manifest: a record whose file still has that row's
    SHA-256 keeps its size without being decoded again.
    """
    rows: list[dict] = []
    skipped: list[dict] = []
    decoded = 0
    progress = os.environ.get("FASHIONBG_PROGRESS", "1") != "0"
    for record in tqdm(records, desc="prepare: validating images", unit="img", leave=False, disable=not progress):
        path = root / record.path
        digest = _sha256(path)
        earlier = (known or {}).get(record.path)
        if digest is not None and earlier is not None and earlier.get("sha256") == digest:
            width, height = int(earlier["width"]), int(earlier["height"])
        else:
            decoded += 1
            try:
                image = load_rgb(path)
            except BadImageError as error:
                if on_bad_image == "fail":
                    raise BadImageError(
                        error.path, f"{error.reason}; remove or fix the file, or set data.on_bad_image: skip"
                    ) from None
                skipped.append({"path": record.path, "reason": error.reason})
                continue
            width, height = image.width, image.height
            digest = digest or _sha256(path)
        rows.append(
            {"path": record.path, "label": record.label, "split": record.split, "width": width, "height": height,
             "sha256": digest}
        )
    return rows, skipped, decoded


def write_manifest(rows: list[dict], path: Path = layout.MANIFEST) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def _log_skipped(skipped: list[dict]) -> None:
    for entry in skipped[:LOGGED_SKIPS]:
        _logger.warning("prepare: skipped %s: %s", entry["path"], entry["reason"])
    if len(skipped) > LOGGED_SKIPS:
        _logger.warning("prepare: skipped %d more files", len(skipped) - LOGGED_SKIPS)


def main(params: dict) -> None:
    dataset = get(params, "data.dataset", str)
    fmt = get(params, "data.format", str, "auto", choices=("auto", "fashionstyle14", "imagefolder"))
    on_bad_image = get(params, "data.on_bad_image", str, "fail", choices=("fail", "skip"))
    fractions = {split: get(params, f"data.split.{split}", float, minimum=0.0, maximum=1.0) for split in SPLITS}
    seed = get(params, "data.split_seed", int, 0)
    root = layout.raw_root(dataset)

    listing = read_dataset(root, fmt, fractions, seed)
    if listing.problems and on_bad_image == "fail":
        first = listing.problems[0]
        location = first.path if posixpath.isabs(first.path) else f"{root}/{first.path}"
        raise DataError(
            f"{location}: {first.reason}; fix the dataset, or set data.on_bad_image: skip "
            f"(problems in the dataset listing: {len(listing.problems)})"
        )
    rules = validation_rules()
    rows, skipped, decoded = validate(root, listing.records, on_bad_image, previous_rows(rules))
    skipped = [{"path": p.path, "reason": p.reason} for p in listing.problems] + skipped
    if listing.format == "imagefolder":
        # Split only the images that passed validation, so that skipped files cannot take a class's
        # train share. With nothing skipped, this repeats the split that read_imagefolder made.
        for row, split in zip(rows, stratified_split([row["label"] for row in rows], fractions, seed)):
            row["split"] = split

    _log_skipped(skipped)
    if listing.unlisted:
        _logger.warning(
            "prepare: %d image files in %s are not listed in train.csv, val.csv or test.csv and are not used "
            "(for example %s). Add a CSV row for each image to use it.", len(listing.unlisted), root, listing.unlisted[0],
        )
    used = {row["label"] for row in rows}
    classes = [name for name in listing.classes if name in used]
    for name in listing.classes:
        if name not in used:
            _logger.warning("prepare: class %r has no usable image and is left out", name)
    missing_splits = [split for split in ("train", "test") if not any(row["split"] == split for row in rows)]
    if len(classes) < 2 or missing_splits:
        raise DataError(
            f"{root}: after validation {len(rows)} images in {len(classes)} classes remain "
            f"(empty splits: {', '.join(missing_splits) or 'none'}); a study needs at least 2 classes "
            f"and images in train and test{f' (skipped files: {len(skipped)})' if skipped else ''}"
        )

    write_manifest(rows)
    write_json(VALIDATION, {"rules": rules})
    write_json(layout.CLASSES, {"dataset": dataset, "classes": classes})
    write_json(SKIPPED_REPORT, {"dataset": dataset, "count": len(skipped), "files": skipped})
    counts = Counter(row["split"] for row in rows)
    write_json(
        layout.METRICS / "prepare.json",
        {"images": len(rows), "classes": len(classes), "skipped": len(skipped), "unlisted": len(listing.unlisted),
         **{s: counts[s] for s in SPLITS}},
    )
    _logger.info(
        "prepare: %d images in %d classes (train %d, val %d, test %d), %d skipped%s; %d decoded, %d unchanged",
        len(rows), len(classes), counts["train"], counts["val"], counts["test"], len(skipped),
        f" (listed in {SKIPPED_REPORT})" if skipped else "", decoded, len(listing.records) - decoded,
    )
