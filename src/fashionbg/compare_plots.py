"""Figures of the compare stage: differences per comparison, training curves and a sample sheet."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from . import layout  # noqa: E402
from .grid import GRID_METRICS, Cell  # noqa: E402
from .prepare import read_manifest  # noqa: E402


def plot_differences(groups: dict, path: Path) -> None:
    """Draw grouped bars of rembg - original top-1 (points) per model/init, one bar per augmentation."""
    from .compare import save_figure

    models = sorted({(model, init) for model, init, _ in groups})
    augments = sorted({augment for _, _, augment in groups})
    width = 0.8 / max(len(augments), 1)
    figure, axis = plt.subplots(figsize=(max(6, 1.3 * len(models) + 2), 4))
    for index, augment in enumerate(augments):
        positions, heights, errors = [], [], []
        for x, (model, init) in enumerate(models):
            summary = groups.get((model, init, augment))
            if summary is None:
                continue
            positions.append(x + (index - (len(augments) - 1) / 2) * width)
            heights.append(100 * summary["difference_mean"])
            errors.append(100 * summary["difference_std"])
        axis.bar(positions, heights, width, yerr=errors, capsize=3, label=f"augment: {augment}")
    axis.axhline(0, color="black", linewidth=0.8)
    axis.set_xticks(range(len(models)), [f"{m}\n({i})" for m, i in models], fontsize=8)
    axis.set_ylabel("rembg − original, test top-1 (points)")
    axis.set_title("Effect of background removal per comparison (mean ± std over seeds)")
    axis.legend(fontsize=8)
    save_figure(figure, path)
    plt.close(figure)


def _read_curve(path: Path) -> list[float]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [float(row["accuracy"]) for row in csv.DictReader(handle, delimiter="\t")]


def plot_curves(cells: list[Cell], path: Path) -> None:
    """Draw validation accuracy per epoch, mean over seeds, for both variants of every model/init/augment."""
    from .compare import save_figure

    curves: dict[tuple, list[list[float]]] = defaultdict(list)
    for cell in cells:
        tsv = GRID_METRICS / cell.name / "plots" / "metrics" / "val" / "accuracy.tsv"
        if tsv.exists():
            curves[(cell.group, cell.variant)].append(_read_curve(tsv))
    groups = sorted({group for group, _ in curves})
    columns = min(4, max(1, len(groups)))
    rows = max(1, -(-len(groups) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False)
    for axis, group in zip(axes.flat, groups):
        for variant, style in (("original", "-"), ("rembg", "--")):
            runs = curves.get((group, variant))
            if not runs:
                continue
            length = min(len(run) for run in runs)
            mean = np.mean([run[:length] for run in runs], axis=0)
            axis.plot(range(1, length + 1), 100 * mean, style, label=variant)
        axis.set_title("/".join(group), fontsize=8)
        axis.set_xlabel("epoch", fontsize=8)
        axis.set_ylabel("val top-1 (%)", fontsize=8)
        axis.legend(fontsize=7)
    for axis in list(axes.flat)[len(groups):]:
        axis.axis("off")
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def plot_samples(dataset: str, count: int, path: Path) -> None:
    """Draw `count` test images as rows of original | rembg | mask."""
    from .compare import save_figure

    rows = [row for row in read_manifest() if row["split"] == "test"]
    step = max(1, len(rows) // count)
    chosen = rows[::step][:count]
    figure, axes = plt.subplots(len(chosen), 3, figsize=(6, 2.2 * len(chosen)), squeeze=False)
    for line, row in zip(axes, chosen):
        panels = (
            (layout.raw_root(dataset) / row["path"], "original"),
            (layout.rembg_image_path(row["path"]), "rembg"),
            (layout.rembg_mask_path(row["path"]), "mask"),
        )
        for axis, (file, title) in zip(line, panels):
            with Image.open(file) as image:
                axis.imshow(np.asarray(image.convert("RGB")))
            axis.set_title(f"{title}: {row['label']}" if title == "original" else title, fontsize=8)
            axis.axis("off")
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)
