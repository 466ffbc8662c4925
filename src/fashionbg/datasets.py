"""Dataset readers: the FashionStyle14 layout (style folders + split CSVs) and any ImageFolder tree.

A reader lists records (relative path, class name, split) and the rows it could not use, with the
reason; it opens no images. The prepare stage validates the images themselves.
"""

from __future__ import annotations

import csv
import posixpath
from dataclasses import dataclass, field
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
    path: str  # as in Record.path, or the CSV file for a row without a path
    reason: str


@dataclass
class Listing:
    classes: list[str]
    records: list[Record]
    problems: list[Problem]
    format: str  # fashionstyle14 | imagefolder
    # Image files in the class folders that no split CSV lists (FashionStyle14 layout). They are not
    # part of the dataset, but prepare reports how many there are.
    unlisted: list[str] = field(default_factory=list)


def display_path(path: str) -> str:
    """Return `path` printable as UTF-8: the bytes of a non-UTF-8 file name appear as \\x escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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


def _csv_rows(csv_path: Path) -> list[tuple[int, str | None, str | None]]:
    """Return (line number, path, label) rows, with path and label None for a row with too few columns.

    A header row that names the columns `path` and `label` may list them in either order.
    """
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:
            rows = [
                (number, row)
                for number, row in enumerate(csv.reader(handle), start=1)
                if any(cell.strip() for cell in row)
            ]
    except UnicodeDecodeError as error:
        raise DataError(f"{csv_path}: not UTF-8 text ({error}); save the file as UTF-8") from None
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0][1]]
    path_column, label_column = 0, 1
    if "path" in header and "label" in header:
        path_column, label_column = header.index("path"), header.index("label")
        rows = rows[1:]
    parsed: list[tuple[int, str | None, str | None]] = []
    for number, row in rows:
        if len(row) <= max(path_column, label_column):
            parsed.append((number, None, None))
        else:
            parsed.append((number, row[path_column].strip(), row[label_column].strip()))
    return parsed


def _normalize_csv_path(relpath: str) -> str | None:
    """Return `relpath` as a normalized POSIX path inside the dataset, or None if it points outside."""
    relpath = posixpath.normpath(relpath.replace("\\", "/"))
    if posixpath.isabs(relpath) or relpath == ".." or relpath.startswith("../") or relpath == ".":
        return None
    return relpath


def read_fashionstyle14(root: Path) -> Listing:
    """Read `train.csv`, `val.csv`, `test.csv` under `root`; labels are class names or indices."""
    classes = _read_classes(root)
    records: list[Record] = []
    problems: list[Problem] = []
    first_row: dict[str, str] = {}  # path -> where it was first listed
    mentioned: set[str] = set()  # every path a CSV row names, usable or not
    for split in SPLITS:
        csv_path = root / f"{split}.csv"
        for number, listed, label in _csv_rows(csv_path):
            where = f"{csv_path.name}:{number}"
            if listed is None or label is None:
                problems.append(Problem(csv_path.name, f"{where}: expected the columns path,label; the row is too short"))
                continue
            if not listed:
                problems.append(Problem(csv_path.name, f"{where}: empty path"))
                continue
            relpath = _normalize_csv_path(listed)
            if label.isdigit() and label not in classes:
                index = int(label)
                label = classes[index] if index < len(classes) else label
            if relpath is None:
                problems.append(
                    Problem(listed, f"{where}: path must be relative to the dataset folder {root} and stay inside it")
                )
            elif label not in classes:
                header_hint = " (a header row must name the columns path and label)" if number == 1 else ""
                problems.append(
                    Problem(relpath, f"{where}: label {label!r} is not a class ({', '.join(classes)}){header_hint}")
                )
            elif relpath in first_row:
                problems.append(
                    Problem(relpath, f"{where}: duplicate row (the first occurrence, {first_row[relpath]}, is kept)")
                )
            elif not (root / relpath).is_file():
                problems.append(Problem(relpath, f"{where}: file not found"))
            else:
                first_row[relpath] = where
                records.append(Record(relpath, label, split))
            if relpath is not None:
                mentioned.add(relpath)
    unlisted = [
        file.relative_to(root).as_posix()
        for folder in _class_folders(root)
        for file in sorted((root / folder).rglob("*"))
        if file.is_file() and is_image_name(file) and file.relative_to(root).as_posix() not in mentioned
    ]
    return Listing(classes, records, problems, "fashionstyle14", unlisted)


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
            if rank < n_test:
                split = "test"
            elif rank < n_test + n_val:
                split = "val"
            else:
                split = "train"
            splits[members[position]] = split
    return splits


def read_imagefolder(root: Path, fractions: dict[str, float], seed: int) -> Listing:
    """Read `<class>/<image>` folders and split them per class with `seed`.

    prepare splits again over the images that pass validation, so that skipped files do not
    unbalance the split.
    """
    classes = _class_folders(root)
    paths: list[str] = []
    labels: list[str] = []
    problems: list[Problem] = []
    for label in classes:
        files = sorted(p for p in (root / label).rglob("*") if p.is_file() and not p.name.startswith("."))
        for file in files:
            relpath = file.relative_to(root).as_posix()
            if not is_image_name(file):
                problems.append(
                    Problem(display_path(relpath), f"not an image file name (extension {file.suffix or 'none'!r})")
                )
                continue
            if display_path(relpath) != relpath:
                problems.append(Problem(display_path(relpath), "file name is not valid UTF-8; rename the file"))
                continue
            paths.append(relpath)
            labels.append(label)
    empty = [label for label in classes if label not in labels]
    for label in empty:
        problems.append(Problem(label + "/", "empty class folder (the class is left out)"))
    classes = [label for label in classes if label not in empty]
    splits = stratified_split(labels, fractions, seed)
    records = [Record(path, label, split) for path, label, split in zip(paths, labels, splits)]
    return Listing(classes, records, problems, "imagefolder")


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
