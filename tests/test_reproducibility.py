"""Same params and seed in two repositories: byte-identical prepare and rembg outputs, equal train metrics on CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from concurrent_commands import finish_command, start_command
from conftest import make_dvc_repo, tiny_params, write_photo_crops
from fashionbg import layout, prepare

pytestmark = pytest.mark.slow

# A random augmentation and the rembg variant make the metrics depend on the seed and on rembg's masks.
PARAMS = tiny_params(**{"data.dataset": "photos", "data.variant": "rembg", "augment": "flip", "train.epochs": 2})


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    """Run `dvc repro train` in two fresh repositories at once; both start from the same files."""
    roots = []
    for name in ("first", "second"):
        root = make_dvc_repo(tmp_path_factory.mktemp(name), PARAMS)
        write_photo_crops(root / "data/raw/photos", per_class=3)
        roots.append(root)
    processes = [start_command(["dvc", "repro", "train"], root) for root in roots]
    for process in processes:
        finish_command(process)
    return roots[0], roots[1]


@pytest.mark.parametrize("output", [layout.MANIFEST, layout.CLASSES, layout.REMBG / "index.json"])
def test_stage_file_identical(runs, output):
    first, second = runs
    assert (first / output).read_bytes() == (second / output).read_bytes()


def test_rembg_images_and_masks_identical(runs):
    first, second = runs
    rows = prepare.read_manifest(first / layout.MANIFEST)
    assert len(rows) == 12
    for row in rows:
        for output in (layout.rembg_image_path(row["path"]), layout.rembg_mask_path(row["path"])):
            assert (first / output).read_bytes() == (second / output).read_bytes(), output


def test_train_metrics_identical(runs):
    first, second = runs
    metrics = Path("metrics/train/metrics.json")
    assert json.loads((first / metrics).read_text()) == json.loads((second / metrics).read_text())


def test_model_weights_identical(runs):
    weights = [torch.load(root / "models/model.pt", weights_only=False)["state_dict"] for root in runs]
    assert weights[0].keys() == weights[1].keys()
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name]), name
