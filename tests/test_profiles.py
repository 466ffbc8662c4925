"""The paper profile: every model name builds in timm and its grid expands in dvc without running."""

import pytest
import timm
import torch
import yaml

from conftest import REPO, make_dvc_repo, run_command
from fashionbg.compare import grid_cells

PAPER = yaml.safe_load((REPO / "profiles/paper.yaml").read_text())
DEMO = yaml.safe_load((REPO / "params.yaml").read_text())


def _keys(node, prefix=""):
    if not isinstance(node, dict):
        return {prefix}
    return set().union(*(_keys(value, f"{prefix}.{key}" if prefix else key) for key, value in node.items()))


def test_paper_profile_has_same_keys_as_params():
    assert _keys(PAPER) == _keys(DEMO)


@pytest.mark.parametrize("name", sorted(set(PAPER["grid"]["scratch"]["models"] + PAPER["grid"]["pretrained"]["models"])))
def test_paper_model_builds_in_timm(name):
    with torch.device("meta"):
        model = timm.create_model(name, pretrained=False, num_classes=14)
    assert model.num_classes == 14
    assert timm.models.get_pretrained_cfg(name) is not None  # ImageNet weights are published for it


def test_paper_grid_expands_in_dvc(tmp_path):
    repo = make_dvc_repo(tmp_path / "paper", PAPER)
    stages = run_command(["dvc", "stage", "list", "--name-only"], repo).split()
    grid = [name for name in stages if name.startswith("grid-")]
    assert len(grid) == len(grid_cells(PAPER))
    scratch = PAPER["grid"]["scratch"]
    assert len([s for s in grid if s.startswith("grid-scratch@")]) == (
        len(scratch["variants"]) * len(scratch["models"]) * len(scratch["augments"]) * len(scratch["seeds"])
    )
    assert "grid-scratch@rembg-swin_tiny_patch4_window7_224-cutmix-2" in grid
    assert "compare" in stages


def test_default_grid_expands_in_dvc(tmp_path):
    repo = make_dvc_repo(tmp_path / "demo", DEMO)
    stages = run_command(["dvc", "stage", "list", "--name-only"], repo).split()
    grid = sorted(name for name in stages if name.startswith("grid-"))
    assert len(grid) == len(grid_cells(DEMO))
    blocks = {name.split("@")[0] for name in grid}
    assert blocks == {"grid-scratch", "grid-augmented", "grid-pretrained"}
    assert "grid-augmented@rembg-vgg11-crop_flip-2" in grid
    assert "grid-pretrained@original-tf_efficientnet_lite0-none-0" in grid
