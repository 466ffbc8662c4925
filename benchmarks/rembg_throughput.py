"""rembg stage throughput against bare onnxruntime and against `rembg p`, measured side by side.

Usage: python benchmarks/rembg_throughput.py [--images 24] [--rounds 3] [--rembg-cli PATH]
Each round runs every contender once, in turn, so load from other processes hits all of them alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Timer, print_machine, write_photos  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MEAN, STD, SIZE = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), (320, 320)


def _params(sessions: int, threads: int, workers: int) -> dict:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"].update(dataset="bench", format="imagefolder")
    params["rembg"].update(model="u2netp", sessions=sessions, threads=threads, workers=workers)
    return params


def _default_rembg_cli() -> str | None:
    candidate = Path(sys.executable).with_name("rembg")
    return str(candidate) if candidate.exists() else shutil.which("rembg")


def _cli_works(cli: str) -> bool:
    result = subprocess.run([cli, "p", "--help"], capture_output=True, text=True)
    return result.returncode == 0


def _clear_stage_outputs(root: Path) -> None:
    shutil.rmtree(root / "data/rembg", ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=24, help="512x512 photographs to process (default 24)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--sessions", type=int, default=0, help="rembg.sessions for the stage (default 0: auto)")
    parser.add_argument("--threads", type=int, default=0, help="rembg.threads for the stage (default 0: auto)")
    parser.add_argument("--workers", type=int, default=2, help="rembg.workers for the stage (default 2)")
    parser.add_argument("--rembg-cli", default=_default_rembg_cli(),
                        help="the `rembg` command, installed with rembg's `cli` extra (default: beside python)")
    parser.add_argument("--skip-commands", action="store_true", help="only the in-process comparison")
    args = parser.parse_args()

    os.environ.setdefault("FASHIONBG_PROGRESS", "0")
    from fashionbg import prepare, remove_background
    from fashionbg.images import load_rgb
    from rembg import new_session as rembg_new_session

    print_machine("before")
    work = Path(tempfile.mkdtemp(prefix="rembg-bench-"))
    flat = write_photos(work / "flat", args.images)
    # The stage reads an imagefolder dataset: one class folder per photograph.
    for path in flat:
        target = work / "repo/data/raw/bench" / path.stem.rsplit("_", 1)[0] / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    root = work / "repo"
    params = _params(args.sessions, args.threads, args.workers)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    os.chdir(root)
    prepare.main(params)
    rows = prepare.read_manifest()
    jobs = [
        remove_background.Job(Path("data/raw/bench") / row["path"], remove_background.layout.rembg_image_path(row["path"]),
                              remove_background.layout.rembg_mask_path(row["path"]))
        for row in rows
    ]
    fill = tuple(params["rembg"]["fill"])

    count, per_session = remove_background.plan_sessions(args.sessions, args.threads, len(jobs))
    stage_sessions = [remove_background.new_session("u2netp", per_session) for _ in range(count)]
    stage_session = stage_sessions[0]
    # Bare inference: one session looping over the images (as `rembg p` does), with onnxruntime's
    # defaults and with each thread count, and the stage's sessions side by side, one image each.
    rembg_session = rembg_new_session("u2netp")  # rembg's own session class, the reference for the masks
    bare_sessions = {"onnxruntime defaults (as `rembg p`)": [rembg_session]}
    for threads in range(1, remove_background.usable_cores() + 1):
        bare_sessions[f"{threads} threads, no spinning"] = [remove_background.new_session("u2netp", threads)]
    if count > 1:
        bare_sessions[f"{count} sessions of {per_session} threads side by side"] = stage_sessions
    images = [load_rgb(job.source) for job in jobs]
    feeds = [stage_session.normalize(image, MEAN, STD, SIZE) for image in images]
    for session in {id(s): s for group in (stage_sessions, *bare_sessions.values()) for s in group}.values():
        session.inner_session.run(None, feeds[0])  # warm-up

    def bare(sessions: list) -> None:
        def loop(lane: int) -> None:
            for feed in feeds[lane::len(sessions)]:
                sessions[lane].inner_session.run(None, feed)

        with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
            list(pool.map(loop, range(len(sessions))))

    def stage() -> None:
        _clear_stage_outputs(root)
        remove_background.run_jobs(jobs, stage_sessions, fill, args.workers, progress=False)

    timer = Timer()
    n = len(jobs)
    print(f"in-process: {n} images, {args.rounds} rounds; stage: {count} sessions of {per_session} onnxruntime "
          f"threads ({'auto' if not (args.sessions and args.threads) else 'set'}), {args.workers} workers",
          flush=True)
    for round_index in range(args.rounds):
        timer.time("stage run_jobs", n, stage)
        for name, sessions in bare_sessions.items():
            timer.time(f"bare onnxruntime, {name}", n, bare, sessions)
        print(f"  round {round_index + 1}: " + ", ".join(
            f"{name} {n / timer.seconds[name][-1]:.3f}/s" for name in timer.seconds), flush=True)

    for name in timer.seconds:
        print(f"{name}: {timer.rate(name):.3f} images/s")
    stage_rate = timer.rate("stage run_jobs")
    loops = [name for name in timer.seconds if name.startswith("bare") and "side by side" not in name]
    best_loop = max(timer.rate(name) for name in loops)
    best_bare = max(timer.rate(name) for name in timer.seconds if name.startswith("bare"))
    print(f"RATIO stage / fastest bare onnxruntime loop over the images: {stage_rate / best_loop:.3f} (target >= 0.95)")
    print(f"RATIO stage / fastest bare onnxruntime of any arrangement: {stage_rate / best_bare:.3f}")

    # Masks equal rembg's own: compare the stage's masks with rembg.remove(only_mask=True) and rembg's session.
    from rembg import remove

    same = sum(
        np.array_equal(np.asarray(Image.open(job.mask_out)), np.asarray(remove(image, session=rembg_session, only_mask=True)))
        for job, image in zip(jobs, images)
    )
    print(f"masks equal to rembg.remove(only_mask=True): {same}/{n}")

    if args.skip_commands:
        return
    if not args.rembg_cli or not _cli_works(args.rembg_cli):
        print(f"rembg command line not runnable ({args.rembg_cli}); install it with "
              "`pip install 'rembg[cli]==2.0.86'` (in a separate virtual environment) and pass --rembg-cli")
        return
    commands = {
        "python -m fashionbg rembg": [sys.executable, "-m", "fashionbg", "rembg"],
        "rembg p -m u2netp": [args.rembg_cli, "p", "-m", "u2netp", str(work / "flat"), str(work / "cli-out")],
    }
    env = dict(os.environ, FASHIONBG_PROGRESS="0")
    command_timer = Timer()
    print(f"commands: {n} images, {args.rounds} rounds (wall time, start-up included)", flush=True)
    for round_index in range(args.rounds):
        for name, command in commands.items():
            if name.startswith("rembg p"):
                shutil.rmtree(work / "cli-out", ignore_errors=True)
                (work / "cli-out").mkdir()
            else:
                _clear_stage_outputs(root)
            started = time.perf_counter()
            subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
            command_timer.add(name, time.perf_counter() - started, n)
        print(f"  round {round_index + 1}: " + ", ".join(
            f"{name} {n / command_timer.seconds[name][-1]:.3f}/s" for name in commands), flush=True)
    for name in commands:
        print(f"{name}: {command_timer.rate(name):.3f} images/s")
    ratio = command_timer.rate("python -m fashionbg rembg") / command_timer.rate("rembg p -m u2netp")
    print(f"RATIO stage command / rembg p: {ratio:.3f} (target >= 1.15)")
    cli_alpha_same = sum(
        np.array_equal(np.asarray(Image.open(job.mask_out)),
                       np.asarray(Image.open(work / "cli-out" / f"{job.source.stem}.png"))[:, :, 3])
        for job in jobs
    )
    print(f"stage masks equal to the alpha of `rembg p` outputs: {cli_alpha_same}/{n}")
    print_machine("after")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
