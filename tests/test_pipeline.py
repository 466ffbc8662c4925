"""prepare -> rembg -> train on real photographs, in both dataset layouts, run as library calls."""

import json

import pytest
import torch

from conftest import tiny_params, write_fashionstyle14, write_photo_crops
from fashionbg import layout, prepare, remove_background, train
from fashionbg.errors import DataError


def _run_all(params):
    prepare.main(params)
    remove_background.main(params)
    train.main(params)
    return json.loads((layout.METRICS / "train" / "metrics.json").read_text())


def test_fashionstyle14_layout_through_pipeline(workdir):
    written = write_fashionstyle14(workdir / "data/raw/fs14")
    metrics = _run_all(tiny_params(**{"data.dataset": "fs14", "data.variant": "rembg", "model": "resnet18"}))
    manifest = prepare.read_manifest()
    assert len(manifest) == len(written)
    assert {row["split"] for row in manifest} == {"train", "val", "test"}
    assert 0.0 <= metrics["test"]["top1"] <= 1.0
    assert "top5" not in metrics["test"]  # 4 classes
    checkpoint = torch.load(layout.MODELS / "model.pt", weights_only=False)
    assert checkpoint["config"]["variant"] == "rembg"
    assert checkpoint["classes"] == ["astronaut", "chelsea", "coffee", "rocket"]


def test_imagefolder_tree_through_pipeline(workdir):
    written = write_photo_crops(workdir / "data/raw/photos", per_class=5)
    metrics = _run_all(tiny_params(**{"data.dataset": "photos", "train.epochs": 2}))
    manifest = prepare.read_manifest()
    assert len(manifest) == len(written)
    history = (layout.METRICS / "train/plots/metrics/train/loss.tsv").read_text().splitlines()
    assert len(history) == 1 + 2  # header and one row per epoch
    assert (layout.METRICS / "train/plots/sklearn/confusion_matrix.json").exists()
    assert metrics["test"]["macro_f1"] >= 0.0


def test_same_seed_gives_same_metrics(workdir):
    write_photo_crops(workdir / "data/raw/photos", per_class=4)
    params = tiny_params(**{"data.dataset": "photos", "augment": "flip"})
    first = _run_all(params)
    second = _run_all(params)
    assert first == second


def test_missing_dataset_folder_names_path_and_fix(workdir):
    with pytest.raises(DataError, match=r"data/raw/nowhere.*dvc add"):
        prepare.main(tiny_params(**{"data.dataset": "nowhere"}))
