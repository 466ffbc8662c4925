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
    diff = run_command(["dvc", "metrics", "diff", "--all", "--json"], repo)
    changes = json.loads(diff)["metrics/train/metrics.json"]
    assert "test.top1" in changes
    assert set(changes["test.top1"]) >= {"old", "new"}


def test_repro_ran_grid_segmentation_and_compare(repo):
    compare = json.loads((repo / "metrics/compare.json").read_text())
    assert "resnet18/random/none" in compare["comparisons"]
    assert set(compare["claims"]) >= {"shallow_scratch", "deep", "segmentation"}
    assert "## Claims of the study" in (repo / "metrics/report.md").read_text()
    for task in ("instance", "semantic"):
        for variant in ("original", "rembg"):
            assert (repo / f"metrics/segment/{task}/{variant}/metrics.json").exists()


def test_metrics_show_lists_every_cell(repo):
    shown = json.loads(run_command(["dvc", "metrics", "show", "--json"], repo))
    files = set(next(iter(shown.values()))["data"])
    assert "metrics/grid/original-resnet18-random-none-s0/metrics.json" in files
    assert "metrics/grid/rembg-resnet18-random-none-s0/metrics.json" in files
    assert "metrics/compare.json" in files
    assert "metrics/segment/instance/rembg/metrics.json" in files


def test_plots_show_writes_html(repo, tmp_path):
    run_command(["dvc", "plots", "show", "-o", str(tmp_path / "plots")], repo)
    html = (tmp_path / "plots/index.html").read_text()
    assert "difference.png" in html
    assert "samples.png" in html
    assert "confusion_matrix" in html


def test_editing_grid_model_reruns_only_its_cells(repo):
    import yaml

    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["grid"]["scratch"]["models"] = ["vgg11"]
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    output = run_command(["dvc", "repro"], repo)
    ran = {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}
    assert ran == {"grid-scratch@original-vgg11-none-0", "grid-scratch@rembg-vgg11-none-0", "compare"}


def test_train_experiment_leaves_grid_up_to_date(repo):
    # A new train image size adds a cache file; the grid cells depend only on their own files.
    output = run_command(["dvc", "exp", "run", "-S", "train.image_size=40", "train"], repo)
    assert "Running stage 'cache'" in output
    assert "Running stage 'train'" in output
    status = json.loads(run_command(["dvc", "status", "--json"], repo))
    assert not [stage for stage in status if stage.startswith("grid-")], status
