"""Validation of generation parameters and the per-style train, val and test split."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from .styles import STYLE_NAMES

DEFAULT_SPLIT = (0.5, 0.1, 0.4)
SPLIT_NAMES = ("train", "val", "test")

_MAX_IMAGES = 99_999  # image ids have five digits


@dataclass(frozen=True)
class DemoParams:
    """Validated generation parameters."""

    styles: int = 8
    images_per_style: int = 50
    width: int = 192
    height: int = 256
    seed: int = 0
    background_bias: float = 0.0
    split: tuple[float, float, float] = DEFAULT_SPLIT

    def to_json(self) -> dict[str, Any]:
        return {
            "styles": self.styles,
            "images_per_style": self.images_per_style,
            "width": self.width,
            "height": self.height,
            "seed": self.seed,
            "background_bias": self.background_bias,
            "split": dict(zip(SPLIT_NAMES, self.split)),
        }


def _check_int(name: str, value: Any, low: int, high: int | None) -> int:
    allowed = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"demo.{name} must be {allowed}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ConfigError(f"demo.{name} must be {allowed}, got {value!r}")
    return int(value)


def _check_fraction(name: str, value: Any, *, open_low: bool) -> float:
    allowed = "a number in (0, 1)" if open_low else "a number in [0, 1]"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"demo.{name} must be {allowed}, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number > 1 or number < 0 or (open_low and number == 0):
        raise ConfigError(f"demo.{name} must be {allowed}, got {value!r}")
    return number


def validate_params(
    *,
    styles: Any = 8,
    images_per_style: Any = 50,
    width: Any = 192,
    height: Any = 256,
    seed: Any = 0,
    background_bias: Any = 0.0,
    split: Any = DEFAULT_SPLIT,
) -> DemoParams:
    """Check generation parameters and return them as DemoParams.

    Raises ConfigError that names the first invalid parameter, its value and the allowed range.
    """
    styles = _check_int("styles", styles, 2, len(STYLE_NAMES))
    images_per_style = _check_int("images_per_style", images_per_style, 3, _MAX_IMAGES // styles)
    width = _check_int("width", width, 64, 2048)
    height = _check_int("height", height, 64, 2048)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    background_bias = _check_fraction("background_bias", background_bias, open_low=False)
    if isinstance(split, Mapping):
        if set(split) != set(SPLIT_NAMES):
            raise ConfigError(
                f"demo.split must have exactly the keys train, val and test, got {sorted(split)!r}"
            )
        split = tuple(split[name] for name in SPLIT_NAMES)
    if isinstance(split, (str, bytes)) or not hasattr(split, "__len__") or len(split) != 3:
        raise ConfigError(f"demo.split must be three fractions (train, val, test), got {split!r}")
    fractions = tuple(
        _check_fraction(f"split.{name}", value, open_low=True) for name, value in zip(SPLIT_NAMES, split)
    )
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ConfigError(f"demo.split fractions must sum to 1, got {fractions!r} (sum {sum(fractions):g})")
    return DemoParams(styles, images_per_style, width, height, seed, background_bias, fractions)


def split_counts(images_per_style: int, split: tuple[float, float, float]) -> tuple[int, int, int]:
    """Return how many images of one style go to train, val and test (each at least one)."""
    quotas = [images_per_style * fraction for fraction in split]
    counts = [max(1, int(math.floor(quota))) for quota in quotas]
    # Largest remainder first, then take back from the largest split while over the total.
    order = sorted(range(3), key=lambda k: (quotas[k] - math.floor(quotas[k]), -k), reverse=True)
    index = 0
    while sum(counts) < images_per_style:
        counts[order[index % 3]] += 1
        index += 1
    while sum(counts) > images_per_style:
        largest = max(range(3), key=lambda k: counts[k])
        counts[largest] -= 1
    return counts[0], counts[1], counts[2]
