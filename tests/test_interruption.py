"""SIGKILL of the rembg and train stages part-way, then `dvc repro`: outputs equal those of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from concurrent_commands import command_env, finish_command, start_command
from conftest import make_dvc_repo, run_command, tiny_params, write_photo_crops
from fashionbg import layout, prepare

pytestmark = pytest.mark.slow

# Four epochs keep train running for a few seconds after its first epoch is logged.
PARAMS = tiny_params(**{"data.dataset": "photos", "data.variant": "rembg", "train.epochs": 4})
PER_CLASS = 3  # 4 classes
# dvclive logs into a hidden staging folder that is renamed to metrics/train when training succeeds.
FIRST_EPOCH_LOG = "metrics/.train.*.partial/plots/metrics/train/loss.tsv"
KILL_TIMEOUT_S = 300


def _new_repo(root: Path) -> Path:
    make_dvc_repo(root, PARAMS)
    write_photo_crops(root / "data/raw/photos", per_class=PER_CLASS)
    return root


def _rembg_outputs(root: Path) -> list[Path]:
    return sorted(path for path in (root / layout.REMBG_IMAGES).rglob("*.png") if not path.name.endswith(".partial"))


def _start_stage(stage: str, root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fashionbg", stage],
        cwd=root, env=command_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def _kill_when(process: subprocess.Popen, ready) -> int:
    """SIGKILL `process` and its group as soon as `ready()` holds; return its exit status."""
    deadline = time.monotonic() + KILL_TIMEOUT_S
    while process.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.01)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> SimpleNamespace:
    """Run the pipeline uninterrupted in one repository while another one is interrupted twice."""
    reference = _new_repo(tmp_path_factory.mktemp("uninterrupted"))
    reference_run = start_command(["dvc", "repro", "train"], reference)

    try:
        root = _new_repo(tmp_path_factory.mktemp("interrupted"))
        run_command(["dvc", "repro", "prepare"], root)

        rembg = _start_stage("rembg", root)
        rembg_status = _kill_when(rembg, lambda: len(_rembg_outputs(root)) >= 2)
        rembg_outputs_at_kill = len(_rembg_outputs(root))
        run_command(["dvc", "repro", "rembg"], root)

        train = _start_stage("train", root)
        train_status = _kill_when(train, lambda: any(root.glob(FIRST_EPOCH_LOG)))
        checkpoint_at_kill = (root / "models/model.pt").exists()
        run_command(["dvc", "repro", "train"], root)
    except BaseException:
        reference_run.kill()
        raise
    finish_command(reference_run)
    return SimpleNamespace(
        reference=reference,
        root=root,
        rembg_status=rembg_status,
        rembg_outputs_at_kill=rembg_outputs_at_kill,
        train_status=train_status,
        checkpoint_at_kill=checkpoint_at_kill,
    )


def test_rembg_killed_part_way(runs):
    assert runs.rembg_status == -signal.SIGKILL
    assert 0 < runs.rembg_outputs_at_kill < 4 * PER_CLASS


def test_train_killed_part_way(runs):
    assert runs.train_status == -signal.SIGKILL
    assert not runs.checkpoint_at_kill


def test_rembg_outputs_match_uninterrupted_run(runs):
    rows = prepare.read_manifest(runs.reference / layout.MANIFEST)
    assert len(rows) == 4 * PER_CLASS
    for row in rows:
        for output in (layout.rembg_image_path(row["path"]), layout.rembg_mask_path(row["path"])):
            assert (runs.root / output).read_bytes() == (runs.reference / output).read_bytes(), output


def test_rembg_index_matches_uninterrupted_run(runs):
    index = layout.REMBG / "index.json"
    assert (runs.root / index).read_bytes() == (runs.reference / index).read_bytes()


def test_train_metrics_match_uninterrupted_run(runs):
    metrics = Path("metrics/train/metrics.json")
    assert json.loads((runs.root / metrics).read_text()) == json.loads((runs.reference / metrics).read_text())


def test_repro_leaves_no_partial_files(runs):
    leftovers = [path for folder in ("data",) for path in (runs.root / folder).rglob("*.partial")]
    assert leftovers == []
