"""Shared fixtures: small datasets built from real photographs that ship with scikit-image."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from skimage import data as skdata

REPO = Path(__file__).resolve().parents[1]
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("FASHIONBG_PROGRESS", "0")


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skdata, name)())


def write_photo_crops(root: Path, per_class: int = 6, size: tuple[int, int] = (96, 72), seed: int = 0) -> dict:
    """Write `<photo>/<photo>_<i>.jpg` random crops of each photo; return {relpath: class}."""
    rng = np.random.default_rng(seed)
    written = {}
    for name in PHOTOS:
        image = photo(name)
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            scale = rng.uniform(0.6, 1.0)
            width, height = int(image.width * scale), int(image.height * scale)
            x = int(rng.integers(0, image.width - width + 1))
            y = int(rng.integers(0, image.height - height + 1))
            crop = image.crop((x, y, x + width, y + height)).resize(size)
            relpath = f"{name}/{name}_{i}.jpg"
            crop.save(root / relpath, quality=90)
            written[relpath] = name
    return written


def write_fashionstyle14(root: Path, per_class: int = 6) -> dict:
    written = write_photo_crops(root, per_class)
    splits = {"train": [], "val": [], "test": []}
    for index, (relpath, label) in enumerate(sorted(written.items())):
        split = ("train", "train", "val", "test", "test", "train")[index % 6]
        splits[split].append(f"{relpath},{label}")
    for split, rows in splits.items():
        (root / f"{split}.csv").write_text("path,label\n" + "\n".join(rows) + "\n")
    return written


def tiny_params(**changes) -> dict:
    """Return the repository's params.yaml shrunk for tests, with dotted-key `changes` applied."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["demo"].update(styles=3, images_per_style=8, width=72, height=96)
    params["train"].update(epochs=1, batch_size=8, image_size=32)
    params["grid"]["train"].update(epochs=1, batch_size=8, image_size=32)
    params["grid"]["scratch"].update(variants=["original", "rembg"], models=["resnet18"], augments=["none"], seeds=[0])
    params["grid"]["augmented"].update(models=[])
    params["grid"]["pretrained"].update(models=[])
    params["segment"]["instance"].update(max_train_images=4, max_eval_images=4, epochs=1, min_size=64, max_size=96)
    params["segment"]["semantic"].update(max_train_images=8, max_eval_images=8, epochs=1, height=64, width=64)
    for key, value in changes.items():
        node = params
        *parents, last = key.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    return params


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Run a test from an empty folder used as the repository root."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_command(args: list[str], cwd: Path, timeout_s: float = 900) -> str:
    """Run a command of the pipeline (dvc, git, python) in `cwd`; fail the test with its output if it fails."""
    import subprocess
    import sys

    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, env=env)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result.stdout + result.stderr


def make_dvc_repo(root: Path, params: dict) -> Path:
    """Create a git + DVC repository at `root` holding this project's pipeline with `params`."""
    import shutil

    root.mkdir(parents=True, exist_ok=True)
    for name in ("dvc.yaml", ".gitignore", ".dvcignore"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run_command(["git", "init", "-q", "-b", "main"], root)
    run_command(["git", "config", "user.email", "test@example.com"], root)
    run_command(["git", "config", "user.name", "Test"], root)
    run_command(["dvc", "init", "-q"], root)
    run_command(["dvc", "config", "core.analytics", "false"], root)
    run_command(["git", "add", "-A"], root)
    run_command(["git", "commit", "-q", "-m", "Start pipeline"], root)
    return root


@pytest.fixture(scope="session")
def rembg_session():
    """rembg's own U²-Netp session, created by the rembg package: the reference the stage must equal."""
    import rembg

    from fashionbg import assets

    assets.ensure_u2netp()
    return rembg.new_session("u2netp")
