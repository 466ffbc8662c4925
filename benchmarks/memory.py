"""Peak resident memory of each stage of the demo pipeline, polled with psutil over the stage's process tree.

Usage: python benchmarks/memory.py [--epochs 1] [--all-grid-cells] [--limit-gib 4]
Runs each stage's command, dependencies first, in a fresh copy of the pipeline
with the default params (epochs lowered to --epochs: the peak is reached in the first epoch).
Without --all-grid-cells only the first grid cell of each model runs (the others differ only in seed,
variant and augmentation) and compare, which reads every cell, is skipped.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_machine  # noqa: E402
from incremental import run as run_checked  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
POLL_S = 0.05


def peak_tree_rss(command: str, cwd: Path, env: dict) -> tuple[int, float, int]:
    """Run `command` (a shell line); return the peak summed RSS of it and its descendants, seconds, exit code."""
    started = time.perf_counter()
    process = subprocess.Popen(command, shell=True, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                total = 0
                for member in tree:
                    try:
                        total += member.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, total)
            except psutil.Error:
                return
            time.sleep(POLL_S)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    _, errors = process.communicate()
    stop.set()
    watcher.join()
    if process.returncode != 0:
        print(errors[-2000:], file=sys.stderr)
    return peak, time.perf_counter() - started, process.returncode


def stage_commands(root: Path) -> list[tuple[str, str]]:
    """Return (stage name, command) for every stage of the pipeline at `root`, dependencies first."""
    import networkx as nx
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        order = reversed(list(nx.topological_sort(repo.index.graph)))
        return [(stage.name, stage.cmd) for stage in order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="epochs of every training stage (default 1)")
    parser.add_argument("--all-grid-cells", action="store_true")
    parser.add_argument("--limit-gib", type=float, default=4.0)
    args = parser.parse_args()

    print_machine("before")
    work = Path(tempfile.mkdtemp(prefix="memory-bench-"))
    root = work / "repo"
    root.mkdir()
    for name in ("dvc.yaml", ".gitignore", ".dvcignore"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["train"]["epochs"] = params["grid"]["train"]["epochs"] = args.epochs
    for block in ("instance", "semantic"):
        if block in params.get("segment", {}):
            params["segment"][block]["epochs"] = args.epochs
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run_checked(["dvc", "init", "-q", "--no-scm"], root)
    stages = stage_commands(root)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               FASHIONBG_PROGRESS="0")
    seen_models = set()
    worst = 0
    print(f"{'stage':55s} {'peak RSS':>10s} {'seconds':>8s}")
    for name, command in stages:
        if name.startswith("grid-") and not args.all_grid_cells:
            words = shlex.split(command)
            model = words[words.index("--model") + 1]
            if model in seen_models:
                continue
            seen_models.add(model)
        if name == "compare" and not args.all_grid_cells:
            print(f"{name:55s} skipped: it reads every grid cell (use --all-grid-cells)")
            continue
        peak, seconds, code = peak_tree_rss(command, root, env)
        worst = max(worst, peak)
        status = "" if code == 0 else f"  FAILED ({code})"
        print(f"{name:55s} {peak / 2**20:8.0f} MiB {seconds:8.1f}{status}", flush=True)
    verdict = "under" if worst < args.limit_gib * 2**30 else "OVER"
    print(f"largest stage peak: {worst / 2**30:.2f} GiB ({verdict} the {args.limit_gib:g} GiB limit)")
    print_machine("after")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
