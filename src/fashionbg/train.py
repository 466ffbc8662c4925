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
from PIL import Image
from sklearn.metrics import f1_score
from tqdm import tqdm

from . import layout
from .augment import Augmentation, create_augmentation
from .errors import BadImageError, ConfigError
from .fileio import atomic_path, staged_live
from .images import load_rgb
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
    """Decode the images of `split` once, resized to the training size, as a uint8 NCHW tensor."""
    chosen = [row for row in rows if row["split"] == split]
    size = config.image_size
    images = torch.empty((len(chosen), 3, size, size), dtype=torch.uint8)
    labels = torch.tensor([classes.index(row["label"]) for row in chosen], dtype=torch.long)
    bar = tqdm(chosen, desc=f"loading {split} ({config.variant})", unit="img", leave=False,
               disable=os.environ.get("FASHIONBG_PROGRESS", "1") == "0")
    for i, row in enumerate(bar):
        path = layout.image_path(config.variant, config.dataset, row["path"])
        try:
            image = load_rgb(path)
        except BadImageError as error:
            hint = "run `dvc repro rembg`" if config.variant == "rembg" else "run `dvc repro prepare`"
            raise BadImageError(path, f"{error.reason}; the manifest lists it, so {hint}") from None
        resized = image.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=None)
        images[i] = torch.from_numpy(np.array(resized, dtype=np.uint8)).permute(2, 0, 1)
    return images, labels


class Normalizer:
    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]):
        self.mean = torch.tensor(mean).view(1, 3, 1, 1) * 255.0
        self.std = torch.tensor(std).view(1, 3, 1, 1) * 255.0

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        return (batch.float() - self.mean) / self.std


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


def evaluate(model, images, labels, normalize, batch_size: int) -> tuple[float, torch.Tensor]:
    """Return the mean cross-entropy and the logits of every image."""
    model.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            outputs.append(model(normalize(images[start : start + batch_size])))
    logits = torch.cat(outputs) if outputs else torch.empty((0, 0))
    loss = F.cross_entropy(logits, labels).item() if len(labels) else float("nan")
    return loss, logits


def top_k_accuracy(logits: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    top = logits.topk(k, dim=1).indices
    return (top == labels[:, None]).any(dim=1).float().mean().item()


def set_threads() -> None:
    threads = int(os.environ.get("FASHIONBG_THREADS", "0")) or os.cpu_count() or 1
    torch.set_num_threads(threads)


def run(config: CellConfig, live_dir: Path, checkpoint: Path, progress: bool = True) -> dict:
    """Train and test one cell; log with dvclive to `live_dir`; return the final metrics."""
    set_threads()
    seed_everything(config.seed)
    rows = read_manifest()
    classes = read_classes()
    num_classes = len(classes)

    model = create_model(config.model, num_classes, config.init, config.light_vgg_head)
    normalize = Normalizer(*normalization(model))
    augmentation = create_augmentation(config.augment, config.image_size, num_classes)
    train_images, train_labels = load_split(rows, classes, config, "train")
    val_images, val_labels = load_split(rows, classes, config, "val")
    test_images, test_labels = load_split(rows, classes, config, "test")

    steps_per_epoch = max(1, math.ceil(len(train_images) / config.batch_size))
    optimizer = _create_optimizer(model, config)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=steps_per_epoch * config.epochs, pct_start=0.15
    )
    generator = torch.Generator().manual_seed(config.seed)

    with staged_live(live_dir) as live:
        started = time.perf_counter()
        seen = 0
        for epoch in range(config.epochs):
            train_loss, train_acc, count = _train_one_epoch(
                model, train_images, train_labels, config, augmentation, normalize, optimizer, scheduler,
                generator, progress, epoch,
            )
            seen += count
            val_loss, val_logits = evaluate(model, val_images, val_labels, normalize, 2 * config.batch_size)
            live.log_metric("train/loss", train_loss)
            live.log_metric("train/accuracy", train_acc)
            if len(val_labels):
                live.log_metric("val/loss", val_loss)
                live.log_metric("val/accuracy", top_k_accuracy(val_logits, val_labels, 1))
            live.next_step()
        elapsed = time.perf_counter() - started

        _, test_logits = evaluate(model, test_images, test_labels, normalize, 2 * config.batch_size)
        predicted = test_logits.argmax(dim=1)
        metrics = {
            "test/top1": top_k_accuracy(test_logits, test_labels, 1),
            "test/macro_f1": float(f1_score(test_labels, predicted, average="macro", zero_division=0)),
        }
        if num_classes >= 5:
            metrics["test/top5"] = top_k_accuracy(test_logits, test_labels, 5)
        for name, value in metrics.items():
            live.log_metric(name, round(value, 6), plot=False)
        live.log_sklearn_plot(
            "confusion_matrix",
            [classes[i] for i in test_labels.tolist()],
            [classes[i] for i in predicted.tolist()],
            name="confusion_matrix.json",
        )

        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(checkpoint) as partial:
            torch.save({"config": asdict(config), "classes": classes, "state_dict": model.state_dict()}, partial)

    # Throughput is logged, not stored with the metrics, so equal configs keep equal metrics files.
    _logger.info(
        "train %s (%s, %s, %s, seed %d): test top-1 %.4f, macro-F1 %.4f, %.1f images/s",
        config.model, config.variant, config.init, config.augment, config.seed,
        metrics["test/top1"], metrics["test/macro_f1"], seen / elapsed if elapsed > 0 else 0.0,
    )
    return metrics


def _create_optimizer(model, config: CellConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    raise ConfigError(f"train.optimizer: invalid value {config.optimizer!r}; use one of {', '.join(OPTIMIZERS)}")


def _train_one_epoch(
    model, images, labels, config, augmentation, normalize, optimizer, scheduler, generator, progress, epoch
) -> tuple[float, float, int]:
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    batches = train_batches(images, labels, config.batch_size, augmentation, generator)
    steps = math.ceil(len(images) / config.batch_size)
    for batch, target in tqdm(batches, total=steps, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch",
                              leave=False, disable=not progress):
        inputs = normalize(batch)
        if augmentation.erase is not None:
            inputs = torch.stack([augmentation.erase(x) for x in inputs])
        if augmentation.batch is not None:
            inputs, soft_target = augmentation.batch(inputs, target)
            logits = model(inputs)
            loss = torch.sum(-soft_target * F.log_softmax(logits, dim=-1), dim=-1).mean()
        else:
            logits = model(inputs)
            loss = F.cross_entropy(logits, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler.last_epoch + 1 < scheduler.total_steps:
            scheduler.step()
        total_loss += loss.item() * len(target)
        correct += (logits.argmax(dim=1) == target).sum().item()
        count += len(target)
    return total_loss / max(count, 1), correct / max(count, 1), count


def main(params: dict) -> None:
    config = config_from_params(params)
    run(config, layout.METRICS / "train", layout.MODELS / "model.pt",
        progress=os.environ.get("FASHIONBG_PROGRESS", "1") != "0")
