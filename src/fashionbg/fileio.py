"""Atomic file writes: every output appears whole under its final name, or not at all."""

from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


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
