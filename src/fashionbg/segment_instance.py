"""Stage: train torchvision's Mask R-CNN on instance annotations and score it with COCOeval (bbox and segm AP).

The `original` variant reads the dataset's images and `rembg` their background-removed copies; both variants
use the same annotation files. The shared data, seeding, logging and checkpoint helpers live here too.
"""

from __future__ import annotations

import logging
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import torch
from dvclive import Live
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.models import resnet as torchvision_resnet
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops.misc import FrozenBatchNorm2d
from tqdm import tqdm

from . import coco, layout
from .errors import ConfigError, DataError, UserError
from .fileio import atomic_path, staged_live
from .images import load_rgb
from .params import get

_logger = logging.getLogger(__name__)

STAGE_DIR = Path("segment") / "instance"
BACKBONES = tuple(name for name in torchvision_resnet.__all__ if name.islower())  # resnet18 ... wide_resnet101_2
DEVICES = ("cpu", "cuda", "auto")
TORCHVISION_MASK_HEAD_LAYERS = (256, 256, 256, 256)
TORCHVISION_BOX_REPRESENTATION_SIZE = 1024  # output size of the TwoMLPHead that MaskRCNN builds by default


# ---------------------------------------------------------------------------------------------------------------
# Settings shared by both segmentation stages


@dataclass(frozen=True)
class SegmentData:
    """Data sources and run settings shared by both segmentation stages (the `segment` params section)."""

    dataset: str  # folder under data/raw
    train_annotations: str  # relative to data/raw/<dataset>
    eval_annotations: str
    train_images: str  # folder that the train file_name values are relative to, relative to data/raw/<dataset>
    eval_images: str
    on_bad_image: str
    seed: int
    num_workers: int
    num_threads: int  # torch intra-op threads; 0 uses every CPU this process may run on
    device: str  # cpu, cuda or auto (cuda when available)


def read_data_settings(params: dict) -> SegmentData:
    return SegmentData(
        dataset=get(params, "segment.dataset", str),
        train_annotations=get(params, "segment.train_annotations", str),
        eval_annotations=get(params, "segment.eval_annotations", str),
        train_images=get(params, "segment.train_images", str),
        eval_images=get(params, "segment.eval_images", str),
        on_bad_image=get(params, "segment.on_bad_image", str, choices=coco.POLICIES),
        seed=get(params, "segment.seed", int, minimum=0),
        num_workers=get(params, "segment.num_workers", int, 0, minimum=0),
        num_threads=get(params, "segment.num_threads", int, 0, minimum=0),
        device=get(params, "segment.device", str, "cpu", choices=DEVICES),
    )


def check_variant(variant: str, params: dict) -> None:
    """Reject an unknown variant, and a rembg run whose images the rembg stage never produced."""
    if variant not in layout.VARIANTS:
        raise ConfigError(f"--variant: invalid value {variant!r}; use one of {', '.join(layout.VARIANTS)}")
    segment_dataset = get(params, "segment.dataset", str)
    data_dataset = get(params, "data.dataset", str)
    if variant == "rembg" and segment_dataset != data_dataset:
        raise ConfigError(
            f"segment.dataset is {segment_dataset!r} but data.dataset is {data_dataset!r}: the rembg stage removes "
            "the backgrounds of data.dataset only; set both to the same folder"
        )


def image_relpath(images_dir: str, file_name: str) -> str:
    """Return the POSIX path of an image relative to data/raw/<dataset>; `.` as images_dir adds nothing."""
    return (PurePosixPath(images_dir) / file_name).as_posix()


def load_split(data: SegmentData, split: str, variant: str, max_images: int = 0) -> coco.CocoDataset:
    """Read and check one split's annotations with image files resolved for `variant`.

    A positive `max_images` keeps a random subset of that many images, drawn with the run's seed.
    """
    annotations = getattr(data, f"{split}_annotations")
    images_dir = getattr(data, f"{split}_images")

    def image_path(file_name: str) -> Path:
        return layout.image_path(variant, data.dataset, image_relpath(images_dir, file_name))

    dataset = coco.load_annotations(
        layout.raw_root(data.dataset) / annotations,
        image_path=image_path,
        on_bad_image=data.on_bad_image,
        policy_key="segment.on_bad_image",
    )
    dataset.report.log(_logger)
    if not dataset.images:
        raise DataError(
            f"{dataset.path}: no usable images for the {variant} variant; "
            f"check segment.{split}_images and that the image files exist"
        )
    subset = dataset.subset(max_images, data.seed)
    if subset is not dataset:
        _logger.info("%s: using %d of %d images", dataset.path, len(subset.images), len(dataset.images))
    return subset


def load_splits(
    data: SegmentData, variant: str, max_train_images: int = 0, max_eval_images: int = 0
) -> tuple[coco.CocoDataset, coco.CocoDataset]:
    """Load the train and eval splits and check that they define the same categories."""
    train_set = load_split(data, "train", variant, max_train_images)
    eval_set = load_split(data, "eval", variant, max_eval_images)
    if train_set.category_ids != eval_set.category_ids:
        raise DataError(
            f"{eval_set.path}: category ids {eval_set.category_ids} differ from {train_set.path}'s "
            f"{train_set.category_ids}; use annotation files with the same categories list"
        )
    return train_set, eval_set


def read_rgb(path: Path) -> np.ndarray:
    """Return the image at `path` as an upright (h, w, 3) uint8 array, as images.load_rgb decodes it.

    images.load_rgb raises BadImageError, a DataError, for a file that cannot be used.
    """
    return np.asarray(load_rgb(path))


# ---------------------------------------------------------------------------------------------------------------
# Run plumbing shared by both segmentation stages


def configure_torch(seed: int, num_threads: int = 0) -> None:
    """Set torch's thread count, and seed Python, NumPy and torch so that reruns match.

    `num_threads` 0 uses every CPU this process may run on. On a machine shared with other jobs, fewer
    threads can be much faster, because each synchronisation point waits for the slowest thread.
    """
    if num_threads == 0:
        num_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(num_threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def select_device(name: str) -> torch.device:
    """Return the torch device for segment.device; `auto` picks CUDA when torch can use it.

    NOTE: the CUDA path has not been run by the tests, which run on CPU only. On CUDA, reruns are not
    bit-identical, because torchvision's roi_align backward and other kernels use atomic additions.
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("segment.device: cuda requested but torch.cuda.is_available() is False; use cpu or auto")
    return torch.device(name)


def progress_disabled() -> bool:
    """Return True when FASHIONBG_PROGRESS=0 turns progress bars off, as in the other stages."""
    return os.environ.get("FASHIONBG_PROGRESS", "1") == "0"


def cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}


def save_checkpoint(path: Path, checkpoint: dict) -> None:
    with atomic_path(path) as partial:
        torch.save(checkpoint, partial)
    _logger.info("saved checkpoint %s", path)


def log_data_counts(live: Live, train_set: coco.CocoDataset, eval_set: coco.CocoDataset) -> None:
    """Record how many images each split used, so runs of the two variants can be checked for equal data."""
    live.log_metric("data/train_images", len(train_set.images), plot=False)
    live.log_metric("data/eval_images", len(eval_set.images), plot=False)
    for reason, count in sorted(train_set.report.dropped.items()):
        live.log_metric(f"data/train_dropped/{reason}", count, plot=False)
    for reason, count in sorted(eval_set.report.dropped.items()):
        live.log_metric(f"data/eval_dropped/{reason}", count, plot=False)


def check_finite_loss(loss: torch.Tensor, epoch: int, step: int, lr_key: str) -> None:
    if not torch.isfinite(loss):
        raise UserError(
            f"training diverged: loss is {loss.item()} at epoch {epoch}, step {step}; lower {lr_key} and run again"
        )


# ---------------------------------------------------------------------------------------------------------------
# Mask R-CNN


@dataclass(frozen=True)
class InstanceSettings:
    """Model and training settings (the `segment.instance` params section)."""

    backbone: str
    backbone_weights: str | None  # local torchvision ResNet state dict; None trains the backbone from scratch
    trainable_layers: int
    min_size: int
    max_size: int
    epochs: int
    batch_size: int
    lr: float
    momentum: float
    weight_decay: float
    warmup_steps: int
    clip_grad_norm: float  # 0 turns clipping off
    hflip: bool
    rpn_pre_nms_top_n_train: int
    rpn_post_nms_top_n_train: int
    rpn_pre_nms_top_n_test: int
    rpn_post_nms_top_n_test: int
    box_batch_size_per_image: int
    box_detections_per_img: int
    box_score_thresh: float
    mask_head_layers: tuple[int, ...]  # channels of the mask head's 3x3 convolutions
    mask_threshold: float
    max_train_images: int  # 0 keeps all
    max_eval_images: int


def read_instance_settings(params: dict) -> InstanceSettings:
    def value(key: str, kind: type | tuple[type, ...], default: Any = ..., **bounds: Any) -> Any:
        if default is ...:
            return get(params, f"segment.instance.{key}", kind, **bounds)
        return get(params, f"segment.instance.{key}", kind, default, **bounds)

    settings = InstanceSettings(
        backbone=value("backbone", str, choices=BACKBONES),
        backbone_weights=value("backbone_weights", (str, type(None)), None),
        trainable_layers=value("trainable_layers", int, minimum=0, maximum=5),
        min_size=value("min_size", int, minimum=32),
        max_size=value("max_size", int, minimum=32),
        epochs=value("epochs", int, minimum=1),
        batch_size=value("batch_size", int, minimum=1),
        lr=value("lr", float, minimum=0),
        momentum=value("momentum", float, 0.9, minimum=0, maximum=1),
        weight_decay=value("weight_decay", float, 1e-4, minimum=0),
        warmup_steps=value("warmup_steps", int, 0, minimum=0),
        clip_grad_norm=value("clip_grad_norm", float, 0.0, minimum=0),
        hflip=value("hflip", bool, True),
        # The defaults below are torchvision's MaskRCNN defaults.
        rpn_pre_nms_top_n_train=value("rpn_pre_nms_top_n_train", int, 2000, minimum=1),
        rpn_post_nms_top_n_train=value("rpn_post_nms_top_n_train", int, 2000, minimum=1),
        rpn_pre_nms_top_n_test=value("rpn_pre_nms_top_n_test", int, 1000, minimum=1),
        rpn_post_nms_top_n_test=value("rpn_post_nms_top_n_test", int, 1000, minimum=1),
        box_batch_size_per_image=value("box_batch_size_per_image", int, 512, minimum=1),
        box_detections_per_img=value("box_detections_per_img", int, 100, minimum=1),
        box_score_thresh=value("box_score_thresh", float, 0.05, minimum=0, maximum=1),
        mask_head_layers=tuple(value("mask_head_layers", list, list(TORCHVISION_MASK_HEAD_LAYERS))),
        mask_threshold=value("mask_threshold", float, 0.5, minimum=0, maximum=1),
        max_train_images=value("max_train_images", int, 0, minimum=0),
        max_eval_images=value("max_eval_images", int, 0, minimum=0),
    )
    if not settings.mask_head_layers or not all(
        isinstance(channels, int) and not isinstance(channels, bool) and channels > 0
        for channels in settings.mask_head_layers
    ):
        raise ConfigError(
            f"params.yaml: segment.instance.mask_head_layers must be a non-empty list of positive channel counts, "
            f"got {list(settings.mask_head_layers)!r}"
        )
    if settings.max_size < settings.min_size:
        raise ConfigError(
            f"params.yaml: segment.instance.max_size ({settings.max_size}) must be >= min_size ({settings.min_size})"
        )
    return settings


def main(params: dict, variant: str) -> None:
    """Train Mask R-CNN on the train split of `variant`, score it on the eval split, and save the model."""
    check_variant(variant, params)
    data = read_data_settings(params)
    settings = read_instance_settings(params)
    configure_torch(data.seed, data.num_threads)

    device = select_device(data.device)
    train_set, eval_set = load_splits(data, variant, settings.max_train_images, settings.max_eval_images)
    model = build_model(settings, num_classes=train_set.num_labels).to(device)

    with staged_live(layout.METRICS / STAGE_DIR / variant) as live:
        live.log_params({"variant": variant, **asdict(data), **asdict(settings)})
        log_data_counts(live, train_set, eval_set)
        train(model, train_set, settings, data, live, variant, device)
        save_checkpoint(
            layout.MODELS / STAGE_DIR / f"{variant}.pt",
            checkpoint_payload(model, settings, train_set, variant),
        )
        metrics = evaluate(model, eval_set, settings, data, device)
        log_final_metrics(live, metrics)


class InstanceDataset(Dataset):
    """Images with Mask R-CNN targets; training samples are flipped at random when `hflip` is set."""

    def __init__(self, dataset: coco.CocoDataset, hflip: bool = False):
        self.dataset = dataset
        self.hflip = hflip

    def __len__(self) -> int:
        return len(self.dataset.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        record = self.dataset.images[index]
        image = torch.from_numpy(read_rgb(record.path).copy()).permute(2, 0, 1).float().div_(255)
        boxes, labels, masks = self.dataset.instance_targets(record)
        target = {
            "boxes": torch.from_numpy(boxes),
            "labels": torch.from_numpy(labels),
            "masks": torch.from_numpy(masks),
            "image_id": torch.tensor(record.id),
        }
        if self.hflip and torch.rand(()) < 0.5:
            image, target = flip_horizontally(image, target)
        return image, target


def flip_horizontally(image: torch.Tensor, target: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
    width = image.shape[-1]
    boxes = target["boxes"].clone()
    boxes[:, [0, 2]] = width - target["boxes"][:, [2, 0]]
    return image.flip(-1), {**target, "boxes": boxes, "masks": target["masks"].flip(-1)}


def collate_pairs(batch: list) -> tuple[list, list]:
    images, targets = zip(*batch)
    return list(images), list(targets)


def build_model(settings: InstanceSettings, num_classes: int) -> MaskRCNN:
    """Build Mask R-CNN on a ResNet-FPN backbone, from scratch or from a local ImageNet state dict.

    As torchvision's own maskrcnn_resnet50_fpn does, a backbone trained from scratch uses BatchNorm2d and a
    pretrained one FrozenBatchNorm2d. With mask_head_layers [256, 256, 256, 256] the heads equal torchvision's
    defaults. Fewer or narrower layers make the mask head cheaper, and on CPU it dominates a training step.
    """
    pretrained = settings.backbone_weights is not None
    backbone = resnet_fpn_backbone(
        backbone_name=settings.backbone,
        weights=None,
        norm_layer=FrozenBatchNorm2d if pretrained else nn.BatchNorm2d,
        trainable_layers=settings.trainable_layers,
    )
    if pretrained:
        load_backbone_weights(backbone.body, Path(settings.backbone_weights))
    elif settings.trainable_layers < 5:
        _logger.warning(
            "segment.instance.trainable_layers is %d without backbone_weights, so %d ResNet stages stay at their "
            "random initialisation; use 5 to train a backbone from scratch",
            settings.trainable_layers,
            5 - settings.trainable_layers,
        )
    mask_channels = settings.mask_head_layers[-1]
    return MaskRCNN(
        backbone,
        num_classes=None,  # MaskRCNN takes the class count from the predictors passed here
        box_predictor=FastRCNNPredictor(TORCHVISION_BOX_REPRESENTATION_SIZE, num_classes),
        mask_head=MaskRCNNHeads(backbone.out_channels, list(settings.mask_head_layers), 1),
        mask_predictor=MaskRCNNPredictor(mask_channels, mask_channels, num_classes),
        min_size=settings.min_size,
        max_size=settings.max_size,
        rpn_pre_nms_top_n_train=settings.rpn_pre_nms_top_n_train,
        rpn_post_nms_top_n_train=settings.rpn_post_nms_top_n_train,
        rpn_pre_nms_top_n_test=settings.rpn_pre_nms_top_n_test,
        rpn_post_nms_top_n_test=settings.rpn_post_nms_top_n_test,
        box_batch_size_per_image=settings.box_batch_size_per_image,
        box_detections_per_img=settings.box_detections_per_img,
        box_score_thresh=settings.box_score_thresh,
    )


def load_backbone_weights(body: nn.Module, path: Path) -> None:
    """Load a torchvision ResNet state dict (the classifier `fc` is ignored) into the backbone body."""
    if not path.is_file():
        raise ConfigError(
            f"segment.instance.backbone_weights: {path} not found; place a torchvision ResNet state dict there, "
            "or set it to null to train the backbone from scratch"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {key: value for key, value in state.items() if not key.startswith("fc.")}
    missing, unexpected = body.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ConfigError(
            f"segment.instance.backbone_weights: {path} does not fit the backbone "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]}); use weights of segment.instance.backbone"
        )


def train(
    model: MaskRCNN,
    train_set: coco.CocoDataset,
    settings: InstanceSettings,
    data: SegmentData,
    live: Live,
    variant: str,
    device: torch.device,
) -> None:
    """Train with SGD, logging the mean of each loss term per epoch as `train/<term>` and `train/loss`."""
    loader = DataLoader(
        InstanceDataset(train_set, hflip=settings.hflip),
        batch_size=settings.batch_size,
        shuffle=True,
        num_workers=data.num_workers,
        collate_fn=collate_pairs,
        generator=torch.Generator().manual_seed(data.seed),
    )
    parameters = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.SGD(
        parameters, lr=settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay
    )
    warmup = max(settings.warmup_steps, 1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup))

    model.train()
    started = time.perf_counter()
    steps = settings.epochs * len(loader)
    with tqdm(total=steps, desc=f"instance {variant}", unit="step", disable=progress_disabled()) as progress:
        for epoch in range(1, settings.epochs + 1):
            sums: dict[str, float] = {}
            for step, (images, targets) in enumerate(loader, start=1):
                images = [image.to(device) for image in images]
                targets = [{key: value.to(device) for key, value in target.items()} for target in targets]
                losses = model(images, targets)
                loss = sum(losses.values())
                check_finite_loss(loss, epoch, step, "segment.instance.lr")
                optimizer.zero_grad()
                loss.backward()
                if settings.clip_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_(parameters, settings.clip_grad_norm)
                optimizer.step()
                scheduler.step()
                for name, term in {"loss": loss, **losses}.items():
                    sums[name] = sums.get(name, 0.0) + term.item()
                progress.update()
                progress.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}")
            for name, total in sums.items():
                live.log_metric(f"train/{name}", total / len(loader))
            live.next_step()
    _logger.info("trained Mask R-CNN (%s) for %d epochs in %.1f s", variant, settings.epochs, time.perf_counter() - started)


@torch.no_grad()
def evaluate(
    model: MaskRCNN, eval_set: coco.CocoDataset, settings: InstanceSettings, data: SegmentData, device: torch.device
) -> dict[str, float]:
    """Predict every eval image and score the predictions with COCOeval for bbox and segm."""
    loader = DataLoader(
        InstanceDataset(eval_set),
        batch_size=settings.batch_size,
        shuffle=False,
        num_workers=data.num_workers,
        collate_fn=collate_pairs,
    )
    model.eval()
    started = time.perf_counter()
    results: list[dict] = []
    category_of = eval_set.category_of
    for images, targets in tqdm(loader, desc="instance eval", unit="batch", disable=progress_disabled()):
        for output, target in zip(model([image.to(device) for image in images]), targets):
            output = {key: value.cpu() for key, value in output.items()}
            results.extend(
                coco.detections_to_results(
                    int(target["image_id"]),
                    output["boxes"].numpy(),
                    output["scores"].numpy(),
                    output["labels"].numpy(),
                    output["masks"].numpy(),
                    category_of,
                    settings.mask_threshold,
                )
            )
    metrics = coco.evaluate_results(eval_set.to_coco(), results)
    _logger.info(
        "evaluated %d images (%d detections) in %.1f s: %s",
        len(eval_set.images),
        len(results),
        time.perf_counter() - started,
        ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()),
    )
    return metrics


def log_final_metrics(live: Live, metrics: dict[str, float]) -> None:
    for name, value in metrics.items():
        live.log_metric(name, value, plot=False)


def checkpoint_payload(model: nn.Module, settings: InstanceSettings, train_set: coco.CocoDataset, variant: str) -> dict:
    return {
        "model_state": cpu_state_dict(model),
        "variant": variant,
        "settings": asdict(settings),
        "category_ids": train_set.category_ids,
        "label_names": train_set.label_names,
    }
