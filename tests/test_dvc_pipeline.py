"""The user's commands on tiny params in a temporary git repository: dvc repro, dvc exp run -S, dvc metrics diff."""

import json

import pytest

from conftest import make_dvc_repo, run_command, tiny_params

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = make_dvc_repo(tmp_path_factory.mktemp("study"), tiny_params())
    run_command(["dvc", "repro"], root)
    run_command(["git", "add", "-A"], root)
    run_command(["git", "commit", "-q", "-m", "Run pipeline"], root)
    return root


def test_repro_runs_demo_rembg_and_train(repo):
    assert (repo / "data/raw/demo/train.csv").exists()
    assert (repo / "models/model.pt").exists()
    rembg = json.loads((repo / "metrics/rembg.json").read_text())
    assert rembg["processed"] == rembg["images"] == 3 * 8
    assert "mask_iou_mean" in rembg
    metrics = json.loads((repo / "metrics/train/metrics.json").read_text())
    assert set(metrics["test"]) == {"top1", "macro_f1"}


def test_second_repro_is_noop(repo):
    output = run_command(["dvc", "repro"], repo)
    assert "Data and pipelines are up to date." in output
    assert "Running stage" not in output


def test_exp_run_with_model_override(repo):
    output = run_command(["dvc", "exp", "run", "-S", "model=resnet18"], repo)
    assert "Running stage 'train'" in output
    assert "Running stage 'rembg'" not in output
    shown = run_command(["dvc", "exp", "show", "--no-pager", "--csv"], repo)
    assert "resnet18" in shown


def test_metrics_diff_original_vs_rembg(repo):
    run_command(["dvc", "exp", "run", "-S", "data.variant=rembg"], repo)
    diff = run_command(["dvc", "metrics", "diff", "--json"], repo)
    changes = json.loads(diff)["metrics/train/metrics.json"]
    assert "test.top1" in changes
    assert set(changes["test.top1"]) >= {"old", "new"}
