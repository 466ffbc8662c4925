"""rembg stage: remove the background of every manifest image with the rembg library.

Writes data/rembg/images/<path>.png (the image composited on a fill colour), data/rembg/masks/<path>.png
(rembg's alpha mask), data/rembg/index.json (what each output was made from, for incremental reruns) and
metrics/rembg.json (counts, throughput and, where the dataset has ground-truth masks, mask IoU).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from . import assets, layout
from .errors import AssetError, ConfigError
from .fileio import atomic_path, write_json
from .images import load_rgb
from .params import get
from .prepare import read_manifest

_logger = logging.getLogger(__name__)

INDEX = layout.REMBG / "index.json"
MASK_THRESHOLD = 128  # alpha at or above this counts as foreground when scoring masks


@dataclass(frozen=True)
class Job:
    source: Path
    image_out: Path
    mask_out: Path


def check_model_name(model_name: str) -> None:
    """Raise ConfigError, with close matches, when rembg has no session called `model_name`."""
    from rembg.sessions import sessions

    if model_name not in sessions:
        from difflib import get_close_matches

        close = get_close_matches(model_name, list(sessions), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"rembg.model: unknown model {model_name!r}{hint}; known: {', '.join(sorted(sessions))}")


def new_session(model_name: str, threads: int = 0):
    """Create a rembg session; U²-Netp is provisioned offline first, other models download as rembg does."""
    import onnxruntime as ort
    from rembg import new_session as rembg_new_session

    check_model_name(model_name)
    if model_name == "u2netp":
        assets.ensure_u2netp()

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        return rembg_new_session(model_name, sess_opts=options)
    except Exception as error:  # rembg raises whatever its downloader raises when offline
        raise AssetError(
            f"rembg model {model_name!r} could not be loaded ({type(error).__name__}: {error}); "
            f"it is downloaded into {assets.rembg_model_path(model_name).parent} on first use, which needs "
            "internet access. Offline, use rembg.model: u2netp (provisioned from PyPI)"
        ) from None


def cut_out(image: Image.Image, mask: Image.Image, fill: tuple[int, int, int]) -> Image.Image:
    """Composite `image` on `fill` through `mask` exactly as `rembg.remove(..., bgcolor=fill)` does."""
    from rembg.bg import apply_background_color, naive_cutout

    return apply_background_color(naive_cutout(image, mask), (*fill, 255)).convert("RGB")


def _save_png(image: Image.Image, path: Path) -> None:
    with atomic_path(path) as partial:
        image.save(partial, format="PNG", compress_level=6)


def _write_outputs(job: Job, image: Image.Image, mask: Image.Image, fill: tuple[int, int, int]) -> None:
    _save_png(cut_out(image, mask, fill), job.image_out)
    _save_png(mask, job.mask_out)


def run_jobs(jobs: list[Job], session, fill: tuple[int, int, int], workers: int, progress: bool = True) -> None:
    """Run background removal over `jobs`; decoding and writing run on `workers` threads beside inference."""
    if not jobs:
        return
    prefetch = max(2, 2 * workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rembg-io") as pool:
        pending_loads: deque[tuple[Job, Future]] = deque()
        writes: list[Future] = []
        queue = iter(jobs)

        def refill() -> None:
            while len(pending_loads) < prefetch:
                job = next(queue, None)
                if job is None:
                    return
                pending_loads.append((job, pool.submit(load_rgb, job.source)))

        refill()
        with tqdm(total=len(jobs), desc="rembg", unit="img", disable=not progress) as bar:
            while pending_loads:
                job, loading = pending_loads.popleft()
                image = loading.result()
                refill()
                mask = session.predict(image)[0]
                writes.append(pool.submit(_write_outputs, job, image, mask, fill))
                bar.update(1)
                if len(writes) > prefetch:
                    writes.pop(0).result()
        for write in writes:
            write.result()


def _parse_fill(value) -> tuple[int, int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    ):
        raise ConfigError(f"params.yaml: rembg.fill must be three integers 0..255 (RGB), got {value!r}")
    return tuple(value)


def _load_index() -> dict:
    if INDEX.exists():
        try:
            return json.loads(INDEX.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            _logger.warning("%s is not valid JSON; every image is processed again", INDEX)
    return {}


def remove_stale_outputs(expected: set[Path]) -> int:
    """Delete outputs (and interrupted partial files) whose source image is no longer in the manifest."""
    removed = 0
    for root in (layout.REMBG_IMAGES, layout.REMBG_MASKS):
        if not root.exists():
            continue
        for path in sorted(root.rglob("*"), reverse=True):
            if path.is_file() and path not in expected:
                path.unlink()
                removed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return removed


def score_masks(rows: list[dict], ground_truth_root: Path) -> dict:
    """Compare rembg masks with ground-truth masks `<root>/<path stem>.png` where they exist."""
    ious: list[float] = []
    empty = 0
    for row in rows:
        predicted = np.asarray(Image.open(layout.rembg_mask_path(row["path"]))) >= MASK_THRESHOLD
        if not predicted.any():
            empty += 1
        truth_path = ground_truth_root / Path(row["path"]).with_suffix(".png")
        if not truth_path.exists():
            continue
        truth = np.asarray(Image.open(truth_path).convert("L")) >= MASK_THRESHOLD
        union = np.logical_or(predicted, truth).sum()
        ious.append(float(np.logical_and(predicted, truth).sum() / union) if union else 1.0)
    scores = {"empty_masks": empty}
    if ious:
        scores.update(
            mask_iou_mean=round(float(np.mean(ious)), 4),
            mask_iou_p10=round(float(np.percentile(ious, 10)), 4),
            mask_iou_images=len(ious),
        )
    return scores


def main(params: dict) -> None:
    dataset = get(params, "data.dataset", str)
    model_name = get(params, "rembg.model", str)
    check_model_name(model_name)
    fill = _parse_fill(get(params, "rembg.fill", list))
    workers = get(params, "rembg.workers", int, minimum=1)
    threads = get(params, "rembg.threads", int, 0, minimum=0)
    root = layout.raw_root(dataset)
    rows = read_manifest()

    previous = _load_index()
    index: dict[str, dict] = {}
    jobs: list[Job] = []
    for row in rows:
        source = {"sha256": row["sha256"], "model": model_name, "fill": list(fill)}
        image_out, mask_out = layout.rembg_image_path(row["path"]), layout.rembg_mask_path(row["path"])
        index[row["path"]] = source
        if previous.get(row["path"]) == source and image_out.exists() and mask_out.exists():
            continue
        jobs.append(Job(root / row["path"], image_out, mask_out))
    removed = remove_stale_outputs(
        {layout.rembg_image_path(row["path"]) for row in rows} | {layout.rembg_mask_path(row["path"]) for row in rows}
    )

    started = time.perf_counter()
    if jobs:
        session = new_session(model_name, threads)
        run_jobs(jobs, session, fill, workers, progress=os.environ.get("FASHIONBG_PROGRESS", "1") != "0")
    elapsed = time.perf_counter() - started
    write_json(INDEX, index)

    rate = len(jobs) / elapsed if jobs and elapsed > 0 else 0.0
    summary = {
        "model": model_name,
        "images": len(rows),
        "processed": len(jobs),
        "reused": len(rows) - len(jobs),
        "removed_stale": removed,
        "images_per_second": round(rate, 3),
    }
    summary.update(score_masks(rows, root / "masks"))
    write_json(layout.METRICS / "rembg.json", summary)
    iou = f", mask IoU {summary['mask_iou_mean']:.3f}" if "mask_iou_mean" in summary else ""
    _logger.info(
        "rembg (%s): %d images, %d processed, %d reused, %d stale outputs removed, %.2f images/s%s",
        model_name, len(rows), len(jobs), len(rows) - len(jobs), removed, rate, iou,
    )
