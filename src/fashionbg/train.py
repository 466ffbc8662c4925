"""train stage: one experiment cell (variant, model, init, augmentation, seed) trained and tested.

Logs per-epoch loss and accuracy and final test top-1, top-5 and macro-F1 with dvclive under
metrics/train/, plus a confusion matrix, and writes the checkpoint to models/model.pt.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score
from tqdm import tqdm

from . import distributed, image_cache, layout
from .augment import Augmentation, create_augmentation
from .errors import ConfigError
from .fileio import atomic_path, staged_live
from .models import check_model_name, create_model, normalization
from .params import get
from .prepare import read_classes, read_manifest

_logger = logging.getLogger(__name__)

OPTIMIZERS = ("sgd", "adamw")


@dataclass(frozen=True)
class CellConfig:
    """Everything that defines one trained model; two equal configs give equal metrics on CPU."""

    model: str
    init: str
    augment: str
    variant: str
    dataset: str
    seed: int
    epochs: int
    batch_size: int
    lr: float
    optimizer: str
    weight_decay: float
    image_size: int
    light_vgg_head: bool


def training_settings(params: dict, section: str = "train") -> dict:
    """Read the hyperparameters of `section` (`train` for the single cell, `grid.train` for the grid)."""
    return {
        "epochs": get(params, f"{section}.epochs", int, minimum=1),
        "batch_size": get(params, f"{section}.batch_size", int, minimum=2),
        "lr": get(params, f"{section}.lr", float, minimum=0.0),
        "optimizer": get(params, f"{section}.optimizer", str, choices=OPTIMIZERS),
        "weight_decay": get(params, f"{section}.weight_decay", float, minimum=0.0),
        "image_size": get(params, f"{section}.image_size", int, minimum=16),
        "light_vgg_head": get(params, f"{section}.light_vgg_head", bool, False),
    }


def make_config(**values) -> CellConfig:
    """Build a CellConfig, checking the names that params.yaml cannot constrain by type alone."""
    check_model_name(values["model"])
    create_augmentation(values["augment"], values["image_size"], num_classes=2)
    return CellConfig(**values)


def config_from_params(params: dict) -> CellConfig:
    """Build the single train cell from the top-level keys and the `train` section."""
    return make_config(
        model=get(params, "model", str),
        init=get(params, "init", str, choices=("random", "imagenet")),
        augment=get(params, "augment", str),
        variant=get(params, "data.variant", str, choices=layout.VARIANTS),
        dataset=get(params, "data.dataset", str),
        seed=get(params, "seed", int),
        **training_settings(params, "train"),
    )


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_split(rows: list[dict], classes: list[str], config: CellConfig, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the images of `split` (uint8 NCHW at the training size, from data/cache/) and their labels."""
    images = image_cache.load(rows, config.dataset, config.variant, config.image_size)
    return _select_split(images, rows, classes, split)


def _select_split(images: torch.Tensor, rows: list[dict], classes: list[str], split: str):
    chosen = [i for i, row in enumerate(rows) if row["split"] == split]
    labels = torch.tensor([classes.index(rows[i]["label"]) for i in chosen], dtype=torch.long)
    return images[chosen], labels


def load_splits(rows: list[dict], classes: list[str], config: CellConfig, world: distributed.World) -> dict:
    """Return {split: (images, labels)}. Under torchrun, rank 0 builds a missing cache before the others read it."""
    if not world.is_main:
        distributed.barrier(world)
    images = image_cache.load(rows, config.dataset, config.variant, config.image_size)
    if world.is_main:
        distributed.barrier(world)
    return {split: _select_split(images, rows, classes, split) for split in ("train", "val", "test")}


class Normalizer:
    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...], device: torch.device | str = "cpu"):
        self.mean = (torch.tensor(mean).view(1, 3, 1, 1) * 255.0).to(device)
        self.std = (torch.tensor(std).view(1, 3, 1, 1) * 255.0).to(device)

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        return (batch.to(self.mean.device).float() - self.mean) / self.std


def train_batches(images, labels, batch_size: int, augmentation: Augmentation, generator: torch.Generator):
    """Yield augmented uint8 batches in a seeded order; mixing presets drop an odd last sample."""
    order = torch.randperm(len(images), generator=generator)
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        if augmentation.batch is not None and len(index) % 2:
            index = index[:-1]
        if len(index) == 0:
            continue
        batch = torch.stack([augmentation.sample(images[i]) for i in index.tolist()])
        yield batch, labels[index]


def evaluate(model, images, labels, normalize, batch_size: int, world: distributed.World | None = None,
             num_classes: int = 0) -> tuple[float, torch.Tensor]:
    """Return the mean cross-entropy and the logits of every image; under torchrun each rank scores a shard."""
    world = world or distributed.World()
    part = distributed.shard(len(images), world)
    local_images = images[part]
    model.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(local_images), batch_size):
            outputs.append(model(normalize(local_images[start : start + batch_size])).float().cpu())
    if world.distributed:
        local = torch.cat(outputs) if outputs else torch.empty((0, num_classes))
        logits = distributed.gather_rows(local.to(world.device), len(images), world).cpu()
    else:
        logits = torch.cat(outputs) if outputs else torch.empty((0, 0))
    loss = F.cross_entropy(logits, labels).item() if len(labels) else float("nan")
    return loss, logits


def top_k_accuracy(logits: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    top = logits.topk(k, dim=1).indices
    return (top == labels[:, None]).any(dim=1).float().mean().item()


def set_threads(world: distributed.World | None = None) -> None:
    """Use FASHIONBG_THREADS threads, else the CPUs shared evenly by the processes on this machine."""
    local = world.local_size if world is not None else 1
    threads = int(os.environ.get("FASHIONBG_THREADS", "0")) or max(1, (os.cpu_count() or 1) // local)
    torch.set_num_threads(threads)


class _QuietLive:
    """Stands in for dvclive on ranks other than 0, which log nothing."""

    def log_metric(self, *args, **kwargs) -> None:
        pass

    def next_step(self) -> None:
        pass

    def log_sklearn_plot(self, *args, **kwargs) -> None:
        pass


@dataclass
class _Cell:
    """One cell's model, data and optimisation state, shared by the training and the testing steps."""

    config: CellConfig
    world: distributed.World
    classes: list[str]
    model: torch.nn.Module
    trained: torch.nn.Module  # `model`, wrapped in DistributedDataParallel under torchrun
    normalize: Normalizer
    augmentation: Augmentation
    data: dict
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator
    progress: bool


def run(config: CellConfig, live_dir: Path, checkpoint: Path, progress: bool = True) -> dict:
    """Train and test one cell; log with dvclive to `live_dir`; return the final metrics.

    Under torchrun (WORLD_SIZE > 1) each rank trains on its share of every global batch of
    `config.batch_size` images; only rank 0 writes `live_dir` and `checkpoint`.
    """
    world = distributed.from_env()
    try:
        cell = _set_up(config, world, progress)
        if not world.is_main:
            return _train_and_test(cell, _QuietLive(), None)
        with staged_live(live_dir) as live:
            return _train_and_test(cell, live, checkpoint)
    finally:
        distributed.close(world)


def _set_up(config: CellConfig, world: distributed.World, progress: bool) -> _Cell:
    set_threads(world)
    seed_everything(config.seed)
    rows = read_manifest()
    classes = read_classes()
    num_classes = len(classes)

    model = create_model(config.model, num_classes, config.init, config.light_vgg_head).to(world.device)
    normalize = Normalizer(*normalization(model), device=world.device)
    augmentation = create_augmentation(config.augment, config.image_size, num_classes)
    data = load_splits(rows, classes, config, world)

    steps_per_epoch = max(1, math.ceil(len(data["train"][0]) / config.batch_size))
    optimizer = _create_optimizer(model, config)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=steps_per_epoch * config.epochs, pct_start=0.15
    )
    trained = model
    if world.distributed:
        from torch.nn.parallel import DistributedDataParallel

        trained = DistributedDataParallel(model, device_ids=[world.device.index] if world.device.type == "cuda" else None)
    return _Cell(config, world, classes, model, trained, normalize, augmentation, data, optimizer, scheduler,
                 torch.Generator().manual_seed(config.seed), progress and world.is_main)


def _train_and_test(cell: _Cell, live, checkpoint: Path | None) -> dict:
    config, world, classes = cell.config, cell.world, cell.classes
    val_images, val_labels = cell.data["val"]
    test_images, test_labels = cell.data["test"]
    started = time.perf_counter()
    seen = 0
    for epoch in range(config.epochs):
        train_loss, train_acc, count = _train_one_epoch(cell, epoch)
        seen += count
        val_loss, val_logits = evaluate(cell.model, val_images, val_labels, cell.normalize, 2 * config.batch_size,
                                        world, len(classes))
        live.log_metric("train/loss", train_loss)
        live.log_metric("train/accuracy", train_acc)
        if len(val_labels):
            live.log_metric("val/loss", val_loss)
            live.log_metric("val/accuracy", top_k_accuracy(val_logits, val_labels, 1))
        live.next_step()
    elapsed = time.perf_counter() - started

    _, test_logits = evaluate(cell.model, test_images, test_labels, cell.normalize, 2 * config.batch_size,
                              world, len(classes))
    predicted = test_logits.argmax(dim=1)
    metrics = {
        "test/top1": top_k_accuracy(test_logits, test_labels, 1),
        "test/macro_f1": float(f1_score(test_labels, predicted, average="macro", zero_division=0)),
    }
    if len(classes) >= 5:
        metrics["test/top5"] = top_k_accuracy(test_logits, test_labels, 5)
    for name, value in metrics.items():
        live.log_metric(name, round(value, 6), plot=False)
    live.log_sklearn_plot(
        "confusion_matrix",
        [classes[i] for i in test_labels.tolist()],
        [classes[i] for i in predicted.tolist()],
        name="confusion_matrix.json",
    )

    if checkpoint is not None:
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        state = {name: tensor.cpu() for name, tensor in cell.model.state_dict().items()}
        with atomic_path(checkpoint) as partial:
            torch.save({"config": asdict(config), "classes": classes, "state_dict": state}, partial)

    # Throughput is logged, not stored with the metrics, so equal configs keep equal metrics files.
    if world.is_main:
        _logger.info(
            "train %s (%s, %s, %s, seed %d): test top-1 %.4f, macro-F1 %.4f, %.1f images/s%s",
            config.model, config.variant, config.init, config.augment, config.seed,
            metrics["test/top1"], metrics["test/macro_f1"], seen / elapsed if elapsed > 0 else 0.0,
            f" on {world.size} processes" if world.distributed else "",
        )
    return metrics


def _create_optimizer(model, config: CellConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    raise ConfigError(f"train.optimizer: invalid value {config.optimizer!r}; use one of {', '.join(OPTIMIZERS)}")


def _train_one_epoch(cell: _Cell, epoch: int) -> tuple[float, float, int]:
    """Train one epoch; return the mean loss, the accuracy and the number of images, over all ranks.

    Every rank draws and augments the whole global batch, so the random streams match a single
    process, then keeps its shard. Each rank's loss is weighted by its share of the global batch, so
    the gradients DistributedDataParallel averages equal those of the global batch on one process.
    """
    config, world, augmentation = cell.config, cell.world, cell.augmentation
    images, labels = cell.data["train"]
    cell.trained.train()
    total_loss, correct, count = 0.0, 0, 0
    batches = train_batches(images, labels, config.batch_size, augmentation, cell.generator)
    steps = math.ceil(len(images) / config.batch_size)
    for batch, target in tqdm(batches, total=steps, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch",
                              leave=False, disable=not cell.progress):
        if len(target) < world.size:
            continue  # too few images to give every rank one; a single process would train on them
        inputs = cell.normalize(batch)
        target = target.to(world.device)
        if augmentation.erase is not None:
            inputs = torch.stack([augmentation.erase(x) for x in inputs])
        soft_target = None
        if augmentation.batch is not None:
            inputs, soft_target = augmentation.batch(inputs, target)
        part = distributed.shard(len(target), world)
        global_count = len(target)
        inputs, target = inputs[part], target[part]
        logits = cell.trained(inputs)
        if soft_target is not None:
            loss = torch.sum(-soft_target[part] * F.log_softmax(logits, dim=-1), dim=-1).mean()
        else:
            loss = F.cross_entropy(logits, target)
        weight = len(target) * world.size / global_count  # exactly 1.0 on one process
        cell.optimizer.zero_grad(set_to_none=True)
        (loss * weight if weight != 1.0 else loss).backward()
        cell.optimizer.step()
        if cell.scheduler.last_epoch + 1 < cell.scheduler.total_steps:
            cell.scheduler.step()
        total_loss += loss.item() * len(target)
        correct += (logits.argmax(dim=1) == target).sum().item()
        count += len(target)
    total_loss, correct, count = distributed.all_sum([total_loss, correct, count], world)
    count = int(count)
    return total_loss / max(count, 1), correct / max(count, 1), count


def main(params: dict) -> None:
    config = config_from_params(params)
    run(config, layout.METRICS / "train", layout.MODELS / "model.pt",
        progress=os.environ.get("FASHIONBG_PROGRESS", "1") != "0")
