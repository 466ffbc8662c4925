"""Stage: train a segmentation-models-pytorch network on per-pixel label maps; score mIoU, per-class IoU, pixel accuracy.

Label maps come from PNG files when the dataset has them, else they are rasterised from the instance annotations.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath

import numpy as np
import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from dvclive import Live
from PIL import Image, UnidentifiedImageError
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchmetrics.classification import MulticlassAccuracy, MulticlassJaccardIndex
from tqdm import tqdm

from . import coco, layout
from .errors import ConfigError, DataError
from .fileio import staged_live
from .params import get
from .segment_instance import (
    SegmentData,
    check_finite_loss,
    check_variant,
    configure_torch,
    cpu_state_dict,
    image_relpath,
    load_splits,
    log_data_counts,
    log_final_metrics,
    progress_disabled,
    read_data_settings,
    read_rgb,
    save_checkpoint,
    select_device,
)

_logger = logging.getLogger(__name__)

STAGE_DIR = Path("segment") / "semantic"
IGNORE_INDEX = 255  # label-map value that neither the loss nor the metrics count
ARCHITECTURES = tuple(smp.MODEL_ARCHITECTURES_MAPPING)  # lower-case names, as smp.create_model accepts them
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Reasons for dropping an image from semantic training or scoring, each with the fix an error message suggests.
LABEL_MAP_PROBLEMS = {
    "label_map_missing": "add the label map, or remove the image from the annotation file",
    "label_map_size_mismatch": "save the label map at the image's size",
    "label_map_invalid": "save a single-channel (L or P mode) PNG whose values are class labels or 255",
}


@dataclass(frozen=True)
class SemanticSettings:
    """Model and training settings (the `segment.semantic` params section)."""

    architecture: str  # smp architecture, for example unet or fpn
    encoder: str  # smp encoder, for example resnet18
    height: int  # network input size in pixels; multiples of 32
    width: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    hflip: bool
    labels: str  # label-map folder relative to data/raw/<dataset>; rasterised from annotations when absent
    extra_labels: tuple[str, ...]  # names of label-map values after the categories, for example person
    max_train_images: int  # 0 keeps all
    max_eval_images: int


def read_semantic_settings(params: dict) -> SemanticSettings:
    def key(name: str) -> str:
        return f"segment.semantic.{name}"

    extra_labels = get(params, key("extra_labels"), list, [])
    if not all(isinstance(name, str) for name in extra_labels):
        raise ConfigError(f"params.yaml: {key('extra_labels')} must be a list of names, got {extra_labels!r}")
    settings = SemanticSettings(
        architecture=get(params, key("architecture"), str, choices=ARCHITECTURES),
        encoder=get(params, key("encoder"), str, choices=smp.encoders.get_encoder_names()),
        height=get(params, key("height"), int, minimum=32),
        width=get(params, key("width"), int, minimum=32),
        epochs=get(params, key("epochs"), int, minimum=1),
        batch_size=get(params, key("batch_size"), int, minimum=1),
        lr=get(params, key("lr"), float, minimum=0),
        weight_decay=get(params, key("weight_decay"), float, 1e-4, minimum=0),
        hflip=get(params, key("hflip"), bool, True),
        labels=get(params, key("labels"), str),
        extra_labels=tuple(extra_labels),
        max_train_images=get(params, key("max_train_images"), int, 0, minimum=0),
        max_eval_images=get(params, key("max_eval_images"), int, 0, minimum=0),
    )
    for name in ("height", "width"):
        if getattr(settings, name) % 32:
            raise ConfigError(
                f"params.yaml: {key(name)} must be a multiple of 32 (the encoder downsamples 5 times), "
                f"got {getattr(settings, name)}"
            )
    return settings


def main(params: dict, variant: str) -> None:
    """Train the semantic segmentation network on the train split of `variant` and score it on the eval split."""
    check_variant(variant, params)
    data = read_data_settings(params)
    settings = read_semantic_settings(params)
    configure_torch(data.seed, data.num_threads)

    device = select_device(data.device)
    train_set, eval_set = load_splits(data, variant, settings.max_train_images, settings.max_eval_images)
    class_names = train_set.label_names + list(settings.extra_labels)
    train_labels = LabelSource.for_split(data, settings, "train", train_set, len(class_names))
    eval_labels = LabelSource.for_split(data, settings, "eval", eval_set, len(class_names))
    model = build_model(settings, num_classes=len(class_names)).to(device)

    with staged_live(layout.METRICS / STAGE_DIR / variant) as live:
        live.log_params({"variant": variant, **asdict(data), **asdict(settings), "classes": class_names})
        log_data_counts(live, train_labels.dataset, eval_labels.dataset)
        train(model, train_labels, settings, data, live, variant, device)
        save_checkpoint(
            layout.MODELS / STAGE_DIR / f"{variant}.pt",
            {"model_state": cpu_state_dict(model), "variant": variant, "settings": asdict(settings), "classes": class_names},
        )
        metrics = evaluate(model, eval_labels, settings, data, class_names, device)
        log_final_metrics(live, metrics)


# ---------------------------------------------------------------------------------------------------------------
# Label maps


class LabelSource:
    """Label maps of one split: read from `folder`, or rasterised from the annotations when `folder` is None."""

    def __init__(self, dataset: coco.CocoDataset, folder: Path | None, images_dir: str, num_classes: int):
        self.dataset = dataset
        self.folder = folder
        self.images_dir = images_dir
        self.num_classes = num_classes

    @classmethod
    def for_split(
        cls, data: SegmentData, settings: SemanticSettings, split: str, dataset: coco.CocoDataset, num_classes: int
    ) -> LabelSource:
        """Choose the label-map folder when it exists, check every map in it, and drop or fail on bad ones."""
        folder = layout.raw_root(data.dataset) / settings.labels
        if not folder.is_dir():
            _logger.info("%s not found; rasterising the %s label maps from %s", folder, split, dataset.path)
            return cls(dataset, None, getattr(data, f"{split}_images"), num_classes)
        source = cls(dataset, folder, getattr(data, f"{split}_images"), num_classes)
        return source.without_bad_maps(data.on_bad_image)

    def path(self, image: coco.ImageRecord) -> Path:
        assert self.folder is not None
        relpath = PurePosixPath(image_relpath(self.images_dir, image.file_name))
        return self.folder / relpath.with_suffix(".png")

    def __call__(self, image: coco.ImageRecord) -> np.ndarray:
        if self.folder is None:
            return self.dataset.label_map(image)
        return read_label_map(self.path(image))

    def without_bad_maps(self, on_bad_image: str) -> LabelSource:
        """Check each label map; raise DataError under `fail`, or drop the image and count it under `skip`."""
        dropped: Counter = Counter()
        kept = []
        for image in self.dataset.images:
            problem = self.check(image)
            if problem is None:
                kept.append(image)
                continue
            reason, detail = problem
            if on_bad_image == "fail":
                raise DataError(
                    f"{self.path(image)}: {detail} ({reason}); {LABEL_MAP_PROBLEMS[reason]}, "
                    "or set segment.on_bad_image: skip to drop such images"
                )
            dropped[reason] += 1
            _logger.debug("%s: %s (%s); dropped", self.path(image), detail, reason)
        if dropped:
            counts = ", ".join(f"{reason}={count}" for reason, count in sorted(dropped.items()))
            _logger.warning("%s: dropped images with bad label maps: %s", self.folder, counts)
        if not kept:
            raise DataError(f"{self.folder}: no usable label maps for {self.dataset.path}; check segment.semantic.labels")
        report = replace(self.dataset.report, images=len(kept), dropped=self.dataset.report.dropped + dropped)
        dataset = replace(self.dataset, images=kept, report=report)
        return LabelSource(dataset, self.folder, self.images_dir, self.num_classes)

    def check(self, image: coco.ImageRecord) -> tuple[str, str] | None:
        path = self.path(image)
        if not path.is_file():
            return "label_map_missing", "label map not found"
        try:
            label_map = read_label_map(path)
        except DataError as error:
            return "label_map_invalid", str(error).removeprefix(f"{path}: ")
        if label_map.shape != (image.height, image.width):
            return (
                "label_map_size_mismatch",
                f"label map is {label_map.shape[1]}x{label_map.shape[0]}, image is {image.width}x{image.height}",
            )
        values = np.unique(label_map)
        invalid = values[(values >= self.num_classes) & (values != IGNORE_INDEX)]
        if invalid.size:
            return "label_map_invalid", f"values {invalid.tolist()} are not labels 0..{self.num_classes - 1} or {IGNORE_INDEX}"
        return None


def read_label_map(path: Path) -> np.ndarray:
    """Return a single-channel label map as an (h, w) uint8 array of labels."""
    try:
        with Image.open(path) as image:
            if image.mode not in ("L", "P"):
                raise DataError(f"{path}: label map has mode {image.mode}; expected a single-channel L or P image")
            return np.asarray(image, dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError) as error:
        raise DataError(f"{path}: cannot read the label map ({error})") from None


# ---------------------------------------------------------------------------------------------------------------
# Data and model


class SemanticDataset(Dataset):
    """Images resized to the network size with their label maps.

    For training the label map is resized too, with nearest-neighbour sampling. For scoring it keeps its full
    size, so predictions are upsampled to each image's own resolution before they are compared.
    """

    def __init__(self, labels: LabelSource, height: int, width: int, hflip: bool, full_size_labels: bool):
        self.labels = labels
        self.size = (width, height)  # PIL order
        self.hflip = hflip
        self.full_size_labels = full_size_labels
        self.mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.labels.dataset.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        record = self.labels.dataset.images[index]
        rgb = Image.fromarray(read_rgb(record.path)).resize(self.size, Image.Resampling.BILINEAR)
        image = torch.from_numpy(np.asarray(rgb).copy()).permute(2, 0, 1).float().div_(255)
        image = (image - self.mean) / self.std
        label_map = self.labels(record)
        if not self.full_size_labels:
            label_map = np.asarray(Image.fromarray(label_map).resize(self.size, Image.Resampling.NEAREST))
        label = torch.from_numpy(label_map.astype(np.int64))
        if self.hflip and torch.rand(()) < 0.5:
            image, label = image.flip(-1), label.flip(-1)
        return image, label


def collate_full_size(batch: list) -> tuple[torch.Tensor, list[torch.Tensor]]:
    images, labels = zip(*batch)
    return torch.stack(images), list(labels)


def build_model(settings: SemanticSettings, num_classes: int) -> nn.Module:
    # encoder_weights=None: the stage never downloads weights, so the encoder trains from scratch.
    return smp.create_model(
        settings.architecture, encoder_name=settings.encoder, encoder_weights=None, in_channels=3, classes=num_classes
    )


# ---------------------------------------------------------------------------------------------------------------
# Training and scoring


def train(
    model: nn.Module,
    labels: LabelSource,
    settings: SemanticSettings,
    data: SegmentData,
    live: Live,
    variant: str,
    device: torch.device,
) -> None:
    """Train with AdamW and per-pixel cross-entropy, logging the mean loss per epoch as `train/loss`."""
    loader = DataLoader(
        SemanticDataset(labels, settings.height, settings.width, settings.hflip, full_size_labels=False),
        batch_size=settings.batch_size,
        shuffle=True,
        num_workers=data.num_workers,
        generator=torch.Generator().manual_seed(data.seed),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    criterion = nn.CrossEntropyLoss(ignore_index=IGNORE_INDEX)

    model.train()
    started = time.perf_counter()
    steps = settings.epochs * len(loader)
    with tqdm(total=steps, desc=f"semantic {variant}", unit="step", disable=progress_disabled()) as progress:
        for epoch in range(1, settings.epochs + 1):
            total = 0.0
            for step, (images, targets) in enumerate(loader, start=1):
                loss = criterion(model(images.to(device)), targets.to(device))
                check_finite_loss(loss, epoch, step, "segment.semantic.lr")
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item()
                progress.update()
                progress.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}")
            live.log_metric("train/loss", total / len(loader))
            live.next_step()
    _logger.info("trained %s/%s (%s) for %d epochs in %.1f s", settings.architecture, settings.encoder, variant,
                 settings.epochs, time.perf_counter() - started)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    labels: LabelSource,
    settings: SemanticSettings,
    data: SegmentData,
    class_names: list[str],
    device: torch.device,
) -> dict[str, float]:
    """Score the eval split at each image's full resolution.

    Returns `mIoU` (torchmetrics' macro Jaccard index, which leaves out classes absent from both the labels
    and the predictions), `pixel_accuracy`, and `IoU/<class>` for each class present in either.
    """
    loader = DataLoader(
        SemanticDataset(labels, settings.height, settings.width, hflip=False, full_size_labels=True),
        batch_size=settings.batch_size,
        shuffle=False,
        num_workers=data.num_workers,
        collate_fn=collate_full_size,
    )
    num_classes = len(class_names)
    mean_iou = MulticlassJaccardIndex(num_classes, average="macro", ignore_index=IGNORE_INDEX)
    class_iou = MulticlassJaccardIndex(num_classes, average="none", ignore_index=IGNORE_INDEX)
    accuracy = MulticlassAccuracy(num_classes, average="micro", ignore_index=IGNORE_INDEX)
    present = torch.zeros(num_classes, dtype=torch.bool)

    model.eval()
    started = time.perf_counter()
    for images, targets in tqdm(loader, desc="semantic eval", unit="batch", disable=progress_disabled()):
        logits = model(images.to(device))
        for image_logits, target in zip(logits, targets):
            resized = F.interpolate(image_logits[None], size=target.shape, mode="bilinear", align_corners=False)
            prediction = resized.argmax(1)[0].cpu()
            for metric in (mean_iou, class_iou, accuracy):
                metric.update(prediction, target)
            valid = target != IGNORE_INDEX
            present |= torch.bincount(target[valid], minlength=num_classes)[:num_classes] > 0
            present |= torch.bincount(prediction[valid], minlength=num_classes)[:num_classes] > 0

    metrics = {"mIoU": float(mean_iou.compute()), "pixel_accuracy": float(accuracy.compute())}
    per_class = class_iou.compute()
    for index, name in enumerate(class_names):
        if present[index]:
            metrics[f"IoU/{metric_key(name)}"] = float(per_class[index])
    _logger.info(
        "evaluated %d images in %.1f s: mIoU %.4f, pixel_accuracy %.4f",
        len(labels.dataset.images),
        time.perf_counter() - started,
        metrics["mIoU"],
        metrics["pixel_accuracy"],
    )
    return metrics


def metric_key(name: str) -> str:
    """Turn a class name such as `shirt, blouse` into a metric key part such as `shirt_blouse`."""
    return re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_") or "class"
