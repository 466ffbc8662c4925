"""Train-stage throughput (cached uint8 tensors) against the usual ImageFolder + DataLoader loop.

Usage: python benchmarks/train_input.py [--images-per-class 64] [--epochs 3] [--rounds 2] [--image-size 64]
Both sides train the same timm model with the same batch size, optimiser, schedule, torch threads,
epochs and per-epoch validation, then test once; each round runs every contender in turn. A third
run with no input pipeline at all (one batch reused) gives the compute bound that both approach.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Timer, print_machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CLASSES = ("astronaut", "chelsea", "coffee", "rocket")


def write_dataset(root: Path, per_class: int, size: tuple[int, int] = (192, 256), seed: int = 0) -> None:
    """Write `per_class` JPEG crops of four scikit-image photographs resized to `size`, one folder per class."""
    import numpy as np
    from PIL import Image
    from skimage import data

    rng = np.random.default_rng(seed)
    for name in CLASSES:
        image = Image.fromarray(getattr(data, name)())
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            scale = rng.uniform(0.5, 1.0)
            width, height = int(image.width * scale), int(image.height * scale)
            x = int(rng.integers(0, image.width - width + 1))
            y = int(rng.integers(0, image.height - height + 1))
            crop = image.crop((x, y, x + width, y + height)).resize(size, Image.Resampling.BICUBIC)
            crop.save(root / name / f"{name}_{i:03d}.jpg", quality=90)


def imagefolder_run(root: Path, rows: list[dict], config, workers: int) -> int:
    """Train and test as most tutorials do: ImageFolder decoding JPEGs every epoch, timm's eval transform."""
    import torch
    import torch.nn.functional as F
    from timm.data import create_transform, resolve_data_config
    from torchvision import datasets

    from fashionbg.models import create_model
    from fashionbg.train import seed_everything

    seed_everything(config.seed)
    model = create_model(config.model, len(CLASSES), config.init, config.light_vgg_head)
    data_config = resolve_data_config({"input_size": (3, config.image_size, config.image_size)}, model=model)
    transform = create_transform(**data_config, is_training=False)
    loaders = {}
    for split in ("train", "val", "test"):
        dataset = datasets.ImageFolder(str(root / split), transform=transform)
        loaders[split] = torch.utils.data.DataLoader(
            dataset, batch_size=config.batch_size if split == "train" else 2 * config.batch_size,
            shuffle=split == "train", num_workers=workers, generator=torch.Generator().manual_seed(config.seed),
        )
    steps = max(1, math.ceil(len(loaders["train"].dataset) / config.batch_size))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps * config.epochs,
                                                    pct_start=0.15)
    seen = 0
    for _ in range(config.epochs):
        model.train()
        for inputs, target in loaders["train"]:
            loss = F.cross_entropy(model(inputs), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler.last_epoch + 1 < scheduler.total_steps:
                scheduler.step()
            seen += len(target)
        model.eval()
        with torch.inference_mode():
            for inputs, target in loaders["val"]:
                model(inputs)
    with torch.inference_mode():
        for inputs, target in loaders["test"]:
            model(inputs)
    return seen


def compute_bound_run(rows: list[dict], config) -> int:
    """Train and test with no input pipeline at all: every step reuses one normalised batch in memory.

    It runs the same steps, model, optimiser, schedule, validation and test as the other runs, so its
    rate is the most any input pipeline could reach.
    """
    import torch
    import torch.nn.functional as F

    from fashionbg.models import create_model
    from fashionbg.train import seed_everything

    seed_everything(config.seed)
    model = create_model(config.model, len(CLASSES), config.init, config.light_vgg_head)
    counts = {split: sum(row["split"] == split for row in rows) for split in ("train", "val", "test")}
    inputs = torch.randn(config.batch_size, 3, config.image_size, config.image_size)
    target = torch.arange(config.batch_size) % len(CLASSES)
    steps = max(1, math.ceil(counts["train"] / config.batch_size))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps * config.epochs,
                                                    pct_start=0.15)

    def evaluate(count: int) -> None:
        batch = torch.randn(2 * config.batch_size, 3, config.image_size, config.image_size)
        with torch.inference_mode():
            for start in range(0, count, len(batch)):
                model(batch[: count - start])

    seen = 0
    for _ in range(config.epochs):
        model.train()
        for step in range(steps):
            size = min(config.batch_size, counts["train"] - step * config.batch_size)
            loss = F.cross_entropy(model(inputs[:size]), target[:size])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler.last_epoch + 1 < scheduler.total_steps:
                scheduler.step()
            seen += size
        model.eval()
        evaluate(counts["val"])
    evaluate(counts["test"])
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images-per-class", type=int, default=64, help="images per class, 4 classes (default 64)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model", default="vgg11")
    parser.add_argument("--source-size", default="192x256",
                        help="width x height of the JPEG files (default 192x256, the demo dataset's size)")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2],
                        help="DataLoader worker processes of the ImageFolder loop (default: 0 and 2)")
    args = parser.parse_args()

    os.environ.setdefault("FASHIONBG_PROGRESS", "0")
    import torch

    from fashionbg import image_cache, prepare, train

    print_machine("before")
    work = Path(tempfile.mkdtemp(prefix="train-bench-"))
    repo = work / "repo"
    source_size = tuple(int(v) for v in args.source_size.lower().split("x"))
    write_dataset(repo / "data/raw/bench", args.images_per_class, source_size)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"].update(dataset="bench", format="imagefolder")
    os.chdir(repo)
    prepare.main(params)
    rows = prepare.read_manifest()
    # The same split as a folder tree for ImageFolder: <split>/<class>/<file>.
    for row in rows:
        target = work / "folders" / row["split"] / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo / "data/raw/bench" / row["path"], target)

    config = train.make_config(
        model=args.model, init="random", augment="none", variant="original", dataset="bench", seed=0,
        epochs=args.epochs, batch_size=args.batch_size, lr=0.001, optimizer="adamw", weight_decay=0.0001,
        image_size=args.image_size, light_vgg_head=True,
    )
    train.set_threads()
    threads = torch.get_num_threads()
    started = time.perf_counter()
    image_cache.load(rows, "bench", "original", args.image_size)
    build_s = time.perf_counter() - started
    train_count = sum(row["split"] == "train" for row in rows)
    per_run = train_count * args.epochs
    print(f"{len(rows)} images of {args.source_size} ({train_count} train), {args.model} at {args.image_size} px, batch {args.batch_size}, "
          f"{args.epochs} epochs, {threads} torch threads; cache built once in {build_s:.2f} s", flush=True)

    timer = Timer()
    for round_index in range(args.rounds):
        timer.time("train stage (cached tensors)", per_run, train.run, config, work / "live", work / "model.pt", False)
        for workers in args.workers:
            torch.set_num_threads(threads)
            timer.time(f"ImageFolder + DataLoader(num_workers={workers})", per_run,
                       imagefolder_run, work / "folders", rows, config, workers)
        torch.set_num_threads(threads)
        timer.time("compute bound (one batch in memory, no input pipeline)", per_run, compute_bound_run, rows, config)
        print(f"  round {round_index + 1}: " + ", ".join(
            f"{name} {per_run / timer.seconds[name][-1]:.1f}/s" for name in timer.seconds), flush=True)
    for name in timer.seconds:
        print(f"{name}: {timer.rate(name):.1f} training images/s (wall time of whole runs)")
    ours = timer.rate("train stage (cached tensors)")
    best = max(timer.rate(name) for name in timer.seconds if name.startswith("ImageFolder"))
    print(f"RATIO train stage / fastest ImageFolder loop: {ours / best:.3f} (target >= 1.3)")
    bound = timer.rate("compute bound (one batch in memory, no input pipeline)")
    print(f"RATIO train stage / compute bound: {ours / bound:.3f} (1.0: input costs nothing)")
    print(f"RATIO fastest ImageFolder loop / compute bound: {best / bound:.3f}")
    print_machine("after")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
