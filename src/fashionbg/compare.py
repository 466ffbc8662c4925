"""compare stage: original vs rembg over the grid, checked against each claim of the study.

Reads every grid cell's metrics (and the segmentation metrics when present) and writes
metrics/compare.json, metrics/report.md and the plots under metrics/compare/.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import stats

from . import layout
from .errors import DataError
from .fileio import atomic_path, write_json, write_text
from .grid import GRID_METRICS, Cell
from .params import get

_logger = logging.getLogger(__name__)

COMPARE_DIR = layout.METRICS / "compare"
REPORT = layout.METRICS / "report.md"
SEGMENT_METRICS = {
    "instance bbox AP": ("instance", ("bbox", "AP")),
    "instance segm AP": ("instance", ("segm", "AP")),
    "semantic mIoU": ("semantic", ("mIoU",)),
}


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str
    expects_gain: bool
    selects: Callable[[tuple[str, str, str]], bool]  # (model, init, augment) -> belongs to the claim


def _plain_vgg(model: str) -> bool:
    return model.startswith("vgg") and not model.endswith("_bn")


CLAIMS = (
    Claim("shallow_scratch", "Background removal improves shallow networks trained from scratch "
          "(VGG without batch norm, no augmentation).", True,
          lambda g: _plain_vgg(g[0]) and g[1] == "random" and g[2] == "none"),
    Claim("batch_norm", "It does not help the same shallow networks once they use batch norm.", False,
          lambda g: g[0].startswith("vgg") and g[0].endswith("_bn") and g[1] == "random" and g[2] == "none"),
    Claim("deep", "It does not help deeper (residual) networks trained from scratch.", False,
          lambda g: not g[0].startswith("vgg") and g[1] == "random" and g[2] == "none"),
    Claim("pretrained", "It does not help ImageNet-pretrained initialisation.", False,
          lambda g: g[1] == "imagenet" and g[2] == "none"),
    Claim("augmentation", "It does not help when training uses data augmentation "
          "(shallow networks from scratch, where it otherwise helps).", False,
          lambda g: _plain_vgg(g[0]) and g[1] == "random" and g[2] != "none"),
)


def grid_cells(params: dict) -> list[Cell]:
    """List the cells of every grid block in params (the same cross products dvc.yaml expands)."""
    cells = []
    for block, init in layout.GRID_BLOCKS.items():
        lists = [get(params, f"grid.{block}.{axis}", list, []) for axis in ("variants", "models", "augments", "seeds")]
        for variant, model, augment, seed in product(*lists):
            cells.append(Cell(variant, model, init, augment, int(seed)))
    return cells


def read_top1(cell: Cell) -> float:
    path = GRID_METRICS / cell.name / "metrics.json"
    if not path.exists():
        raise DataError(f"{path}: metrics of grid cell {cell.name} not found; run `dvc repro` to train it")
    return float(json.loads(path.read_text(encoding="utf-8"))["test"]["top1"])


def paired_test(original: list[float], rembg: list[float]) -> dict:
    """Summarise rembg - original over paired seeds, with a two-sided paired t-test."""
    a, b = np.asarray(original), np.asarray(rembg)
    differences = b - a
    p_value = float("nan")
    if len(differences) >= 2 and np.ptp(differences) > 0:
        p_value = float(stats.ttest_rel(b, a).pvalue)
    elif len(differences) >= 2:
        p_value = 0.0 if differences[0] != 0 else 1.0
    return {
        "seeds": len(differences),
        "original_mean": float(a.mean()),
        "original_std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
        "rembg_mean": float(b.mean()),
        "rembg_std": float(b.std(ddof=1)) if len(b) > 1 else 0.0,
        "difference_mean": float(differences.mean()),
        "difference_std": float(differences.std(ddof=1)) if len(differences) > 1 else 0.0,
        "p_value": p_value,
    }


def verdict(summary: dict, expects_gain: bool, alpha: float) -> str:
    """Return agree, disagree or inconclusive for a claim given its paired summary."""
    difference, p_value = summary["difference_mean"], summary["p_value"]
    significant = not math.isnan(p_value) and p_value < alpha
    if expects_gain:
        if difference > 0 and significant:
            return "agree"
        if difference < 0 and significant:
            return "disagree"
        return "inconclusive"
    if difference <= 0:
        return "agree"
    return "disagree" if significant else "inconclusive"


def compare_groups(cells: list[Cell]) -> dict[tuple[str, str, str], dict]:
    by_key = {cell: read_top1(cell) for cell in cells}
    groups: dict[tuple[str, str, str], dict] = {}
    for group in sorted({cell.group for cell in cells}):
        seeds = sorted({c.seed for c in cells if c.group == group})
        pairs = [
            (Cell("original", *group, seed), Cell("rembg", *group, seed))
            for seed in seeds
            if Cell("original", *group, seed) in by_key and Cell("rembg", *group, seed) in by_key
        ]
        if not pairs:
            continue
        summary = paired_test([by_key[o] for o, _ in pairs], [by_key[r] for _, r in pairs])
        summary["per_seed"] = {o.seed: {"original": by_key[o], "rembg": by_key[r]} for o, r in pairs}
        groups[group] = summary
    return groups


def check_claims(groups: dict, alpha: float) -> list[dict]:
    results = []
    for claim in CLAIMS:
        members = [g for g in groups if claim.selects(g)]
        if not members:
            results.append({"claim": claim.key, "statement": claim.statement, "verdict": "not tested",
                            "groups": []})
            continue
        original = [v["original"] for g in members for v in groups[g]["per_seed"].values()]
        rembg = [v["rembg"] for g in members for v in groups[g]["per_seed"].values()]
        summary = paired_test(original, rembg)
        results.append({"claim": claim.key, "statement": claim.statement,
                        "verdict": verdict(summary, claim.expects_gain, alpha),
                        "groups": ["/".join(g) for g in members], **summary})
    return results


def read_segmentation() -> dict[str, dict[str, float]]:
    """Read the segmentation metrics of both variants where the segment stages produced them."""
    found: dict[str, dict[str, float]] = {}
    for label, (task, keys) in SEGMENT_METRICS.items():
        values = {}
        for variant in layout.VARIANTS:
            path = layout.METRICS / "segment" / task / variant / "metrics.json"
            if not path.exists():
                continue
            node = json.loads(path.read_text(encoding="utf-8"))
            for key in keys:
                node = node.get(key, {}) if isinstance(node, dict) else {}
            if isinstance(node, (int, float)):
                values[variant] = float(node)
        if len(values) == 2:
            found[label] = values
    return found


def segmentation_claim(segmentation: dict, min_score: float) -> dict:
    """Check the segmentation claim; scores below `min_score` on both variants mean the models did not learn."""
    statement = "It does not help instance or semantic segmentation (Mask R-CNN AP, semantic mIoU)."
    if not segmentation:
        return {"claim": "segmentation", "statement": statement, "verdict": "not tested"}
    differences = {label: v["rembg"] - v["original"] for label, v in segmentation.items()}
    untrained = sorted(label for label, v in segmentation.items() if max(v.values()) < min_score)
    # One run per variant gives no spread to test against, so any gain leaves the claim open.
    if untrained:
        outcome = "inconclusive"
    else:
        outcome = "agree" if all(d <= 0 for d in differences.values()) else "inconclusive"
    return {"claim": "segmentation", "statement": statement, "verdict": outcome,
            "differences": differences, "metrics": segmentation, "below_min_score": untrained}


# Settings of the study that the pipeline's params can change.
STUDY_IMAGE_SIZE = 224
STUDY_REMBG_MODEL = "u2net"
STUDY_INSTANCE_BACKBONE = "resnext101_32x8d"


def setup_lines(params: dict) -> list[str]:
    """Describe the run's set-up as bullets, naming each place where it differs from the study's."""
    dataset = get(params, "data.dataset", str)
    if dataset == "demo":
        data = (f"Data: the generated demo ({get(params, 'demo.styles', int)} styles × "
                f"{get(params, 'demo.images_per_style', int)} images, background_bias "
                f"{get(params, 'demo.background_bias', float)}), not FashionStyle14.")
    else:
        data = f"Data: `data/raw/{dataset}`."

    size = get(params, "grid.train.image_size", int)
    lines = [
        f"- {data}",
        f"- Inputs: {size} × {size} pixels" + (f" (the study: {STUDY_IMAGE_SIZE})." if size != STUDY_IMAGE_SIZE else "."),
        f"- Training: {get(params, 'grid.train.epochs', int)} epochs of {get(params, 'grid.train.optimizer', str)}, "
        f"batch {get(params, 'grid.train.batch_size', int)}, learning rate {get(params, 'grid.train.lr', float)}, "
        "one-cycle schedule.",
    ]
    if get(params, "grid.train.light_vgg_head", bool, False):
        lines.append("- VGG: the convolutional layers are the study's, but global average pooling and one linear "
                     "layer replace the 4096-wide classifier (`grid.train.light_vgg_head`).")
    for block, init in layout.GRID_BLOCKS.items():
        models = get(params, f"grid.{block}.models", list, [])
        if models:
            augments = ", ".join(get(params, f"grid.{block}.augments", list, []))
            lines.append(f"- `grid.{block}` ({init} init): {', '.join(models)}; augmentation: {augments}.")

    rembg_model = get(params, "rembg.model", str)
    lines.append(f"- Background removal: rembg `{rembg_model}`"
                 + (f" (the study: `{STUDY_REMBG_MODEL}`)." if rembg_model != STUDY_REMBG_MODEL else "."))
    backbone = get(params, "segment.instance.backbone", str)
    weights = get(params, "segment.instance.backbone_weights", (str, type(None)), None)
    lines.append(f"- Mask R-CNN: {backbone} backbone, " + ("ImageNet-initialised" if weights else "from scratch")
                 + (f" (the study: {STUDY_INSTANCE_BACKBONE}, ImageNet-initialised)."
                    if backbone != STUDY_INSTANCE_BACKBONE or not weights else "."))
    return lines


def _points(value: float) -> str:
    return f"{100 * value:+.1f}"


def render_report(
    groups: dict, claims: list[dict], segmentation: dict, alpha: float, min_score: float, params: dict
) -> str:
    lines = [
        "# Background removal study: original vs rembg",
        "",
        f"Dataset `{get(params, 'data.dataset', str)}`, test top-1 accuracy in percent, mean ± std over seeds; "
        f"difference = rembg − original in points; p from a two-sided paired t-test over seeds (α = {alpha}).",
        "",
        "## Set-up",
        "",
        *setup_lines(params),
        "",
        "## Claims of the study",
        "",
    ]
    for claim in claims:
        if claim["verdict"] == "not tested":
            lines.append(f"- **{claim['statement']}** Not tested: the grid has no matching cells.")
            continue
        if claim["claim"] == "segmentation":
            detail = ", ".join(f"{label} {d:+.4f}" for label, d in claim["differences"].items())
            weak = claim["below_min_score"]
            reason = f"; {', '.join(weak)} below {min_score} on both variants, so those models did not learn" if weak else ""
            lines.append(f"- **{claim['statement']}** {claim['verdict'].capitalize()}: rembg − original {detail} "
                         f"(one run per variant{reason}).")
            continue
        lines.append(
            f"- **{claim['statement']}** {claim['verdict'].capitalize()}: difference "
            f"{_points(claim['difference_mean'])} ± {100 * claim['difference_std']:.1f} points over "
            f"{claim['seeds']} paired runs (p = {claim['p_value']:.3f}; cells: {', '.join(claim['groups'])})."
        )
    lines += ["", "## Every comparison", "",
              "| model | init | augment | original | rembg | difference | p | seeds |",
              "|---|---|---|---|---|---|---|---|"]
    for (model, init, augment), s in groups.items():
        lines.append(
            f"| {model} | {init} | {augment} | {100 * s['original_mean']:.1f} ± {100 * s['original_std']:.1f} "
            f"| {100 * s['rembg_mean']:.1f} ± {100 * s['rembg_std']:.1f} | {_points(s['difference_mean'])} "
            f"| {s['p_value']:.3f} | {s['seeds']} |"
        )
    if segmentation:
        lines += ["", "## Segmentation", "", "| metric | original | rembg |", "|---|---|---|"]
        for label, values in segmentation.items():
            lines.append(f"| {label} | {values['original']:.4f} | {values['rembg']:.4f} |")
    lines += ["", "## Plots", "",
              "![difference per cell](compare/difference.png)", "",
              "![training curves](compare/curves.png)", "",
              "![test samples](compare/samples.png)", ""]
    return "\n".join(lines)


def main(params: dict) -> None:
    from .compare_plots import plot_curves, plot_differences, plot_samples

    alpha = get(params, "compare.alpha", float, 0.05, minimum=0.0, maximum=1.0)
    min_score = get(params, "compare.min_segment_score", float, 0.05, minimum=0.0, maximum=1.0)
    cells = grid_cells(params)
    groups = compare_groups(cells)
    segmentation = read_segmentation()
    claims = check_claims(groups, alpha) + [segmentation_claim(segmentation, min_score)]

    write_json(
        layout.METRICS / "compare.json",
        {
            "claims": {c["claim"]: {k: v for k, v in c.items() if k != "claim"} for c in claims},
            "comparisons": {"/".join(g): {k: v for k, v in s.items() if k != "per_seed"} for g, s in groups.items()},
        },
    )
    write_text(REPORT, render_report(groups, claims, segmentation, alpha, min_score, params))
    _write_difference_table(groups)
    plot_differences(groups, COMPARE_DIR / "difference.png")
    plot_curves(cells, COMPARE_DIR / "curves.png")
    plot_samples(get(params, "data.dataset", str), get(params, "compare.samples", int, 6, minimum=1),
                 COMPARE_DIR / "samples.png")
    for claim in claims:
        _logger.info("compare: %-16s %s", claim["claim"], claim["verdict"])
    _logger.info("compare: %d comparisons from %d cells; report in %s", len(groups), len(cells), REPORT)


def _write_difference_table(groups: dict) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["comparison", "difference_points", "std_points"])
    for group, summary in groups.items():
        writer.writerow(["/".join(group), round(100 * summary["difference_mean"], 3),
                         round(100 * summary["difference_std"], 3)])
    write_text(COMPARE_DIR / "difference.csv", buffer.getvalue())


def save_figure(figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial:
        figure.savefig(partial, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
