"""grid stages: one experiment cell of the variant x model x init x augmentation x seed matrix.

Each cell logs with dvclive to metrics/grid/<cell>/ and writes models/grid/<cell>.pt, where <cell>
is `<variant>-<model>-<init>-<augment>-s<seed>` (timm names contain no hyphen, so the name parses back).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import layout
from .errors import ConfigError
from .params import get
from .train import make_config, run, training_settings

GRID_METRICS = layout.METRICS / "grid"
GRID_MODELS = layout.MODELS / "grid"


@dataclass(frozen=True)
class Cell:
    variant: str
    model: str
    init: str
    augment: str
    seed: int

    @property
    def name(self) -> str:
        return f"{self.variant}-{self.model}-{self.init}-{self.augment}-s{self.seed}"

    @property
    def group(self) -> tuple[str, str, str]:
        """The comparison a cell belongs to: the same model, init and augmentation on both variants."""
        return (self.model, self.init, self.augment)


def parse_cell_name(name: str) -> Cell:
    parts = name.split("-")
    if len(parts) != 5 or parts[0] not in layout.VARIANTS or not parts[4].startswith("s") or not parts[4][1:].isdigit():
        raise ConfigError(
            f"grid cell {name!r}: expected <variant>-<model>-<init>-<augment>-s<seed>, "
            "for example rembg-vgg11-random-none-s0"
        )
    return Cell(parts[0], parts[1], parts[2], parts[3], int(parts[4][1:]))


def main(params: dict, cell: Cell) -> None:
    config = make_config(
        model=cell.model,
        init=cell.init,
        augment=cell.augment,
        variant=cell.variant,
        dataset=get(params, "data.dataset", str),
        seed=cell.seed,
        **training_settings(params, "grid.train"),
    )
    if config.init not in ("random", "imagenet"):
        raise ConfigError(f"grid cell {cell.name}: invalid init {config.init!r}; use random or imagenet")
    run(config, GRID_METRICS / cell.name, GRID_MODELS / f"{cell.name}.pt",
        progress=os.environ.get("FASHIONBG_PROGRESS", "1") != "0")
