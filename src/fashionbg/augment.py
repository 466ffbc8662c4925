"""Augmentation presets by name, built from torchvision transforms v2 and timm's Mixup.

Per-sample presets work on uint8 CHW tensors of the training image size; `mixup` and `cutmix` act
on whole batches (soft targets), so they return a batch transform instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from typing import Callable, Optional

import torch
from timm.data import Mixup
from torchvision.transforms import v2

from .errors import ConfigError

PRESETS = (
    "none",
    "flip",
    "crop_flip",
    "autoaugment",
    "randaugment",
    "trivialaugment",
    "random_erasing",
    "mixup",
    "cutmix",
)


@dataclass
class Augmentation:
    name: str
    sample: Callable[[torch.Tensor], torch.Tensor]  # uint8 CHW -> uint8 CHW
    batch: Optional[Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]] = None
    erase: Optional[Callable[[torch.Tensor], torch.Tensor]] = None  # float CHW after normalisation


def create_augmentation(name: str, image_size: int, num_classes: int) -> Augmentation:
    """Return preset `name` for square images of `image_size` pixels."""
    if name not in PRESETS:
        close = get_close_matches(name, PRESETS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"augment: unknown preset {name!r}{hint}; use one of {', '.join(PRESETS)}")

    flip = v2.RandomHorizontalFlip()
    identity = v2.Identity()
    if name == "none":
        return Augmentation(name, identity)
    if name == "flip":
        return Augmentation(name, flip)
    if name == "crop_flip":
        return Augmentation(name, v2.Compose([v2.RandomResizedCrop(image_size, scale=(0.35, 1.0), antialias=True), flip]))
    if name == "autoaugment":
        return Augmentation(name, v2.Compose([flip, v2.AutoAugment(v2.AutoAugmentPolicy.IMAGENET)]))
    if name == "randaugment":
        return Augmentation(name, v2.Compose([flip, v2.RandAugment(num_ops=2, magnitude=9)]))
    if name == "trivialaugment":
        return Augmentation(name, v2.Compose([flip, v2.TrivialAugmentWide()]))
    if name == "random_erasing":
        return Augmentation(name, flip, erase=v2.RandomErasing(p=0.5, value=0))

    mix = Mixup(
        mixup_alpha=0.2 if name == "mixup" else 0.0,
        cutmix_alpha=1.0 if name == "cutmix" else 0.0,
        label_smoothing=0.0,
        num_classes=num_classes,
    )
    return Augmentation(name, flip, batch=mix)
