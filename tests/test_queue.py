"""Queued experiments: two seeds queued with `dvc exp run --queue`, run by `dvc queue start --jobs 2`.

Only the `train` stage and the stages it depends on run, so the test stays within a few minutes on 2 cores.
"""

from __future__ import annotations

import json
import time

import pytest

from conftest import make_dvc_repo, run_command, tiny_params

pytestmark = pytest.mark.slow

QUEUE_TIMEOUT_S = 600
POLL_S = 3
SEEDS = (1, 2)


def _experiments(node) -> list[dict]:
    """Collect every experiment entry (a dict whose `data` has params and metrics) of `dvc exp show --json`."""
    found = []
    if isinstance(node, dict):
        data = node.get("data")
        if isinstance(data, dict) and "params" in data and node.get("rev") != "workspace":
            found.append(node)
        for value in node.values():
            found.extend(_experiments(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_experiments(value))
    return found


def _seed_and_top1(entry: dict) -> tuple[int | None, float | None]:
    params = entry["data"].get("params", {}).get("params.yaml", {}).get("data", {})
    metrics = entry["data"].get("metrics", {}).get("metrics/train/metrics.json", {}).get("data", {})
    return params.get("seed"), metrics.get("test", {}).get("top1")


def _wait_for_queue(root) -> str:
    deadline = time.monotonic() + QUEUE_TIMEOUT_S
    while True:
        status = run_command(["dvc", "queue", "status"], root)
        if not any(state in status for state in ("Queued", "Running")):
            return status
        if time.monotonic() > deadline:
            pytest.fail(f"queued experiments still unfinished after {QUEUE_TIMEOUT_S} s:\n{status}")
        time.sleep(POLL_S)


@pytest.fixture(scope="module")
def queued(tmp_path_factory):
    root = make_dvc_repo(tmp_path_factory.mktemp("queue"), tiny_params())
    # The training image cache is rebuilt from the data, so git must not carry it into experiment commits.
    with open(root / ".gitignore", "a", encoding="utf-8") as handle:
        handle.write("/data/cache\n")
    run_command(["dvc", "repro", "train"], root)
    run_command(["git", "add", "-A"], root)
    run_command(["git", "commit", "-q", "-m", "Run pipeline"], root)
    for seed in SEEDS:
        run_command(["dvc", "exp", "run", "--queue", "train", "-S", f"seed={seed}"], root)
    run_command(["dvc", "queue", "start", "--jobs", "2"], root)
    try:
        status = _wait_for_queue(root)
    finally:
        run_command(["dvc", "queue", "stop", "--kill"], root)
    return root, status


def test_queue_status_shows_no_failed_experiment(queued):
    _, status = queued
    assert "Failed" not in status


def test_exp_show_lists_both_seeds(queued):
    root, _ = queued
    table = json.loads(run_command(["dvc", "exp", "show", "--json", "--no-pager"], root))
    results = dict(_seed_and_top1(entry) for entry in _experiments(table))
    for seed in SEEDS:
        assert seed in results, f"no experiment with seed={seed} in `dvc exp show`"
        assert isinstance(results[seed], float), f"experiment seed={seed} has no test top1"
