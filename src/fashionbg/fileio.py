"""Atomic file writes: every output appears whole under its final name, or not at all."""

from __future__ import annotations

import json
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from dvclive import Live


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` when the block succeeds.

    The temporary name starts with `.` and ends with `.partial`, and the process and thread ids in
    it keep concurrent writers of one path apart. A killed process leaves its partial file behind.
    The stages open files only by their final names, `dvc repro` deletes a stage's outputs before it
    runs the stage again, and the rembg stage (whose outputs persist) deletes partial files itself.
    The rename is atomic for other processes but may not survive a power loss, since nothing is fsynced.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_native_id()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()


def write_text(path: Path | str, text: str) -> None:
    with atomic_path(path) as partial:
        partial.write_text(text, encoding="utf-8")


def write_json(path: Path | str, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


@contextmanager
def staged_live(directory: Path | str) -> Iterator["Live"]:
    """Yield a dvclive Live that writes into a hidden folder beside `directory`, moved onto it on success.

    dvclive writes its files in place, so the staging folder keeps a failed run from leaving a partial
    metrics folder under the final name. The swap is two renames: the old folder is moved away first.
    """
    from dvclive import Live

    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(f".{directory.name}.{os.getpid()}.partial")
    for stale in directory.parent.glob(f".{directory.name}.*.partial"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    try:
        with Live(dir=str(staging), save_dvc_exp=False, dvcyaml=None, report=None) as live:
            yield live
        previous = directory.with_name(f".{directory.name}.{os.getpid()}.previous")
        shutil.rmtree(previous, ignore_errors=True)
        if directory.exists():
            os.replace(directory, previous)
        os.replace(staging, directory)
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
