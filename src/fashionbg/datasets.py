"""Dataset readers: the FashionStyle14 layout (style folders + split CSVs) and any ImageFolder tree.

A reader lists records (relative path, class name, split) and the rows it could not use, with the
reason; it opens no images. The prepare stage validates the images themselves.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError
from .images import is_image_name

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Record:
    path: str  # POSIX path relative to the dataset root
    label: str  # class name
    split: str  # train | val | test


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


@dataclass
class Listing:
    classes: list[str]
    records: list[Record]
    problems: list[Problem]


def detect_format(root: Path) -> str:
    if all((root / f"{split}.csv").exists() for split in SPLITS):
        return "fashionstyle14"
    return "imagefolder"


def _class_folders(root: Path) -> list[str]:
    ignored = {"masks", "labels", "annotations"}
    return sorted(
        entry.name
        for entry in root.iterdir()
        if entry.is_dir() and not entry.name.startswith(".") and entry.name not in ignored
    )


def _read_classes(root: Path) -> list[str]:
    listed = root / "classes.txt"
    if listed.exists():
        return [line.strip() for line in listed.read_text(encoding="utf-8").splitlines() if line.strip()]
    return _class_folders(root)


def _csv_rows(csv_path: Path) -> list[tuple[int, str, str]]:
    """Return (line number, path, label) rows; a header naming `path` and `label` may come in any order."""
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    path_column, label_column, start = 0, 1, 0
    if "path" in header and "label" in header:
        path_column, label_column, start = header.index("path"), header.index("label"), 1
    parsed = []
    for number, row in enumerate(rows[start:], start=start + 1):
        if len(row) <= max(path_column, label_column):
            raise DataError(f"{csv_path}:{number}: expected columns path,label, got {row!r}")
        parsed.append((number, row[path_column].strip(), row[label_column].strip()))
    return parsed


def read_fashionstyle14(root: Path) -> Listing:
    """Read `train.csv`, `val.csv`, `test.csv` under `root`; labels are class names or indices."""
    classes = _read_classes(root)
    records: list[Record] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for split in SPLITS:
        csv_path = root / f"{split}.csv"
        for number, relpath, label in _csv_rows(csv_path):
            where = f"{csv_path.name}:{number}"
            relpath = relpath.replace("\\", "/")
            if label.isdigit() and label not in classes:
                index = int(label)
                label = classes[index] if index < len(classes) else label
            if label not in classes:
                problems.append(Problem(relpath, f"{where}: label {label!r} is not a class ({', '.join(classes)})"))
            elif relpath in seen:
                problems.append(Problem(relpath, f"{where}: duplicate row (the first occurrence is kept)"))
            elif not (root / relpath).is_file():
                problems.append(Problem(relpath, f"{where}: file not found"))
            else:
                seen.add(relpath)
                records.append(Record(relpath, label, split))
    return Listing(classes, records, problems)


def stratified_split(labels: list[str], fractions: dict[str, float], seed: int) -> list[str]:
    """Assign train/val/test per class with a seeded shuffle; every class gets at least one train image."""
    rng = np.random.default_rng(seed)
    splits = [""] * len(labels)
    for label in sorted(set(labels)):
        members = [i for i, other in enumerate(labels) if other == label]
        order = rng.permutation(len(members))
        n = len(members)
        n_test = int(round(n * fractions["test"]))
        n_val = int(round(n * fractions["val"]))
        if n - n_test - n_val < 1:
            n_test, n_val = max(0, min(n_test, n - 1)), 0
        for rank, position in enumerate(order):
            split = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
            splits[members[position]] = split
    return splits


def read_imagefolder(root: Path, fractions: dict[str, float], seed: int) -> Listing:
    """Read `<class>/<image>` folders and split them per class with `seed`."""
    classes = _class_folders(root)
    paths: list[str] = []
    labels: list[str] = []
    problems: list[Problem] = []
    for label in classes:
        files = sorted(p for p in (root / label).rglob("*") if p.is_file() and not p.name.startswith("."))
        for file in files:
            relpath = file.relative_to(root).as_posix()
            if not is_image_name(file):
                problems.append(Problem(relpath, f"not an image file name (extension {file.suffix or 'none'!r})"))
                continue
            paths.append(relpath)
            labels.append(label)
    empty = [label for label in classes if label not in labels]
    for label in empty:
        problems.append(Problem(label + "/", "empty class folder (the class is left out)"))
    classes = [label for label in classes if label not in empty]
    splits = stratified_split(labels, fractions, seed)
    records = [Record(path, label, split) for path, label, split in zip(paths, labels, splits)]
    return Listing(classes, records, problems)


def read_dataset(root: Path, fmt: str, fractions: dict[str, float], seed: int) -> Listing:
    if not root.is_dir():
        raise DataError(
            f"{root}: dataset folder not found; set data.dataset to a folder under data/raw/ "
            f"(and `dvc add {root}` to version it), or use data.dataset: demo"
        )
    if fmt == "auto":
        fmt = detect_format(root)
    if fmt == "fashionstyle14":
        return read_fashionstyle14(root)
    return read_imagefolder(root, fractions, seed)
