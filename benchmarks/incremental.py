"""Incremental cost of the rembg stage under `dvc repro`, and the cost of a no-op `dvc repro`.

Usage:
  python benchmarks/incremental.py [--images 200] [--repeats 3]  # full run, reruns adding 1 image each, no-op
  python benchmarks/incremental.py --pipeline-dir DIR  # no-op `dvc repro` / `dvc status` of an up-to-date repo,
                                                       # with a cProfile of one no-op repro in DIR/.. (repro.prof)
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_machine, write_photos  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict:
    bin_dir = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", FASHIONBG_PROGRESS="0")


def run(args: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout + result.stderr


def make_repo(root: Path, images: int, held_back: int) -> None:
    root.mkdir(parents=True)
    for name in ("dvc.yaml", ".gitignore", ".dvcignore"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"].update(dataset="bench", format="imagefolder")
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    flat = write_photos(root.parent / "photos", images + held_back)  # the last ones are added one at a time
    for path in flat[:images]:
        target = root / "data/raw/bench" / path.stem.rsplit("_", 1)[0] / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
    for command in (["git", "init", "-q", "-b", "main"], ["git", "config", "user.email", "bench@example.com"],
                    ["git", "config", "user.name", "Bench"], ["dvc", "init", "-q"],
                    ["dvc", "config", "core.analytics", "false"], ["git", "add", "-A"],
                    ["git", "commit", "-q", "-m", "Start"]):
        run(command, root)


def incremental(images: int, repeats: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="incremental-bench-"))
    root = work / "repo"
    make_repo(root, images, repeats + 1)
    full_s, _ = run(["dvc", "repro", "rembg"], root)
    full = json.loads((root / "metrics/rembg.json").read_text())
    print(f"full `dvc repro rembg` ({images} images): {full_s:.1f} s, processed {full['processed']}", flush=True)

    held_back = sorted((work / "photos").glob("*.jpg"))

    def add(photo: Path) -> None:
        shutil.copy(photo, root / "data/raw/bench" / photo.stem.rsplit("_", 1)[0] / f"added_{photo.name}")

    reruns = []
    for photo in held_back[:repeats]:
        add(photo)
        rerun_s, output = run(["dvc", "repro", "rembg"], root)
        after = json.loads((root / "metrics/rembg.json").read_text())
        stages = [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]
        print(f"`dvc repro rembg` after adding 1 image: {rerun_s:.2f} s, stages run {stages}, "
              f"rembg processed {after['processed']}, reused {after['reused']}", flush=True)
        reruns.append(rerun_s)
    rerun_s = sorted(reruns)[len(reruns) // 2]
    print(f"RATIO rerun / full: {rerun_s / full_s:.3f} (median of {len(reruns)} reruns; target < 0.05)")
    noop_s, output = run(["dvc", "repro", "rembg"], root)
    print(f"no-op `dvc repro rembg`: {noop_s:.2f} s ({'up to date' if 'up to date' in output else 'RAN STAGES'})")
    # Where the rerun's time goes: add one more image and run each stage command alone, outside dvc.
    add(held_back[-1])
    prepare_s, prepare_log = run([sys.executable, "-m", "fashionbg", "prepare"], root)
    rembg_s, _ = run([sys.executable, "-m", "fashionbg", "rembg"], root)
    print(f"  after adding another image, each command alone: `python -m fashionbg prepare` {prepare_s:.2f} s "
          f"({prepare_log.strip().rsplit(';', 1)[-1].strip()}), `python -m fashionbg rembg` {rembg_s:.2f} s "
          f"(processed {json.loads((root / 'metrics/rembg.json').read_text())['processed']})")
    print(f"  dvc's own part of the rerun (rerun minus both commands): {rerun_s - prepare_s - rembg_s:.2f} s")
    # The same two commands from scratch, without dvc: the stages' own incremental cost.
    shutil.rmtree(root / "data/prepared")
    shutil.rmtree(root / "data/rembg")
    prepare_full_s, _ = run([sys.executable, "-m", "fashionbg", "prepare"], root)
    rembg_full_s, _ = run([sys.executable, "-m", "fashionbg", "rembg"], root)
    print(f"  the two commands from scratch: prepare {prepare_full_s:.2f} s, rembg {rembg_full_s:.2f} s")
    print(f"RATIO commands alone, 1 added image / from scratch: "
          f"{(prepare_s + rembg_s) / (prepare_full_s + rembg_full_s):.3f} (rembg alone: {rembg_s / rembg_full_s:.3f})")
    elapsed, _ = run([sys.executable, "-c", "import rembg"], root)
    print(f"  `python -c 'import rembg'` (the stage no longer imports it for U²-Netp): {elapsed:.2f} s")
    shutil.rmtree(work, ignore_errors=True)


def noop(pipeline_dir: Path, repeats: int) -> None:
    stages = sum(1 for line in run(["dvc", "stage", "list"], pipeline_dir)[1].splitlines() if line.strip())
    print(f"{pipeline_dir}: {stages} stages", flush=True)
    for command in (["dvc", "status"], ["dvc", "repro"], ["dvc", "--version"]):
        times = []
        for _ in range(repeats):
            elapsed, output = run(command, pipeline_dir)
            times.append(elapsed)
        note = ""
        if command == ["dvc", "repro"]:
            note = " (up to date)" if "up to date" in output else " (RAN STAGES: not up to date)"
        print(f"`{' '.join(command)}`: best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s{note}")
    profile = pipeline_dir.parent / "repro.prof"
    run(["dvc", "repro", "--cprofile-dump", str(profile)], pipeline_dir)
    print(f"cProfile of one no-op `dvc repro`: {profile}; top 15 by cumulative time:")
    pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--pipeline-dir", type=Path, help="an up-to-date repository of this pipeline")
    parser.add_argument("--repeats", type=int, default=3, help="reruns (one added image each) or no-op runs")
    args = parser.parse_args()
    print_machine("before")
    if args.pipeline_dir:
        noop(args.pipeline_dir.resolve(), args.repeats)
    else:
        incremental(args.images, args.repeats)
    print_machine("after")


if __name__ == "__main__":
    main()
