"""The train stage under torchrun: 2 CPU processes (gloo) against 1 process on the same cell.

Both runs see the same data order, augmentation draws and initial weights, and the global batch stays
train.batch_size. They differ only in floating-point summation order, because the all-reduce adds two
half-batch gradients and the thread counts differ. Over a few steps that moves weights by about 1e-6
(measured: train loss differed by 1e-7 relative), so the tests allow losses 1e-4 relative, weights
1e-3 absolute, and accuracies one image of the split.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
import yaml

from conftest import run_command, tiny_params, write_photo_crops
from fashionbg import prepare

pytestmark = pytest.mark.slow

LOSS_RTOL = 1e-4
WEIGHT_ATOL = 1e-3


def _metrics(root: Path) -> dict:
    return json.loads((root / "metrics/train/metrics.json").read_text())


def _one_image(root: Path, split: str) -> float:
    """The accuracy that one image of `split` is worth."""
    rows = prepare.read_manifest(root / "data/prepared/manifest.csv")
    return 1 / sum(row["split"] == split for row in rows) + 1e-9


def _history(root: Path, name: str) -> list[float]:
    lines = (root / "metrics/train/plots/metrics" / f"{name}.tsv").read_text().splitlines()[1:]
    return [float(line.split("\t")[-1]) for line in lines]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    """Train vgg11 (no batch norm, whose statistics would be per process) once with 1 and once with 2 processes."""
    # flip draws a random number per image: the check covers augmentation streams as well.
    params = tiny_params(**{"data.dataset": "photos", "model": "vgg11", "augment": "flip", "train.epochs": 2,
                            "train.batch_size": 6})
    roots = []
    for name in ("single", "torchrun"):
        root = tmp_path_factory.mktemp(name)
        write_photo_crops(root / "data/raw/photos", per_class=6)
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        roots.append(root)
    single, parallel = roots
    for root in roots:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(root)
            prepare.main(params)
    run_command([sys.executable, "-m", "fashionbg", "train"], single)
    run_command([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                 "-m", "fashionbg", "train"], parallel)
    return single, parallel


@pytest.mark.parametrize("name", ["train/loss", "val/loss"])
def test_torchrun_loss_history_matches_single_process(runs, name):
    single, parallel = runs
    assert _history(parallel, name) == pytest.approx(_history(single, name), rel=LOSS_RTOL)


@pytest.mark.parametrize("name", ["train/accuracy", "val/accuracy"])
def test_torchrun_accuracy_history_matches_single_process(runs, name):
    single, parallel = runs
    tolerance = _one_image(single, name.split("/")[0])
    assert _history(parallel, name) == pytest.approx(_history(single, name), abs=tolerance)


def test_torchrun_test_metrics_match_single_process(runs):
    single, parallel = runs
    expected, got = _metrics(single)["test"], _metrics(parallel)["test"]
    assert got.keys() == expected.keys()
    assert got["top1"] == pytest.approx(expected["top1"], abs=_one_image(single, "test"))


def test_torchrun_checkpoint_weights_match_single_process(runs):
    single, parallel = runs
    weights = [torch.load(root / "models/model.pt", weights_only=False)["state_dict"] for root in runs]
    assert weights[1].keys() == weights[0].keys()
    worst = max((weights[1][k].float() - weights[0][k].float()).abs().max().item() for k in weights[0])
    assert worst < WEIGHT_ATOL


def test_torchrun_leaves_no_staging_folders(runs):
    _, parallel = runs
    assert sorted(p.name for p in (parallel / "metrics/train").iterdir()) == ["metrics.json", "plots"]
    assert sorted(p.name for p in (parallel / "metrics").iterdir() if p.name.startswith(".")) == []
