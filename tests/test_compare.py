import math

import pytest

from conftest import tiny_params

from fashionbg.compare import CLAIMS, check_claims, paired_test, setup_lines, verdict
from fashionbg.errors import ConfigError
from fashionbg.grid import Cell, parse_cell_name


def test_cell_name_round_trip():
    cell = Cell("rembg", "tf_efficientnet_lite0", "imagenet", "crop_flip", 2)
    assert cell.name == "rembg-tf_efficientnet_lite0-imagenet-crop_flip-s2"
    assert parse_cell_name(cell.name) == cell


@pytest.mark.parametrize("name", ["rembg-vgg11-random-none", "blurred-vgg11-random-none-s0", "rembg-vgg11-random-none-0"])
def test_malformed_cell_name_is_config_error(name):
    with pytest.raises(ConfigError, match="<variant>-<model>"):
        parse_cell_name(name)


def test_paired_test_reports_difference_and_p():
    summary = paired_test([0.50, 0.52, 0.54], [0.55, 0.58, 0.58])
    assert summary["difference_mean"] == pytest.approx(0.05)
    assert summary["seeds"] == 3
    assert 0.0 < summary["p_value"] < 0.05


def test_paired_test_single_seed_has_no_p():
    assert math.isnan(paired_test([0.5], [0.6])["p_value"])


@pytest.mark.parametrize(
    "difference, p_value, expects_gain, expected",
    [
        (0.05, 0.01, True, "agree"),
        (-0.05, 0.01, True, "disagree"),
        (0.05, 0.30, True, "inconclusive"),
        (-0.01, 0.50, False, "agree"),
        (0.05, 0.01, False, "disagree"),
        (0.05, 0.30, False, "inconclusive"),
        (0.05, float("nan"), True, "inconclusive"),
    ],
)
def test_verdict_table(difference, p_value, expects_gain, expected):
    summary = {"difference_mean": difference, "p_value": p_value}
    assert verdict(summary, expects_gain, alpha=0.05) == expected


def _group(original, rembg):
    return {"per_seed": {s: {"original": o, "rembg": r} for s, (o, r) in enumerate(zip(original, rembg))}}


def test_claims_select_their_cells():
    groups = {
        ("vgg11", "random", "none"): _group([0.50, 0.52, 0.51], [0.56, 0.57, 0.58]),
        ("vgg11_bn", "random", "none"): _group([0.60, 0.61, 0.62], [0.58, 0.60, 0.59]),
        ("resnet18", "random", "none"): _group([0.70, 0.71, 0.69], [0.66, 0.68, 0.67]),
        ("vgg11", "random", "crop_flip"): _group([0.58, 0.59, 0.60], [0.57, 0.58, 0.58]),
    }
    results = {claim["claim"]: claim for claim in check_claims(groups, alpha=0.05)}
    assert set(results) == {claim.key for claim in CLAIMS}
    assert results["shallow_scratch"]["groups"] == ["vgg11/random/none"]
    assert results["shallow_scratch"]["verdict"] == "agree"
    assert results["batch_norm"]["verdict"] == "agree"
    assert results["deep"]["groups"] == ["resnet18/random/none"]
    assert results["deep"]["verdict"] == "agree"
    assert results["augmentation"]["groups"] == ["vgg11/random/crop_flip"]
    assert results["pretrained"]["verdict"] == "not tested"


def test_segmentation_claim_needs_trained_models():
    from fashionbg.compare import segmentation_claim

    untrained = {"instance bbox AP": {"original": 0.001, "rembg": 0.0}}
    assert segmentation_claim(untrained, min_score=0.05)["verdict"] == "inconclusive"
    trained = {"instance bbox AP": {"original": 0.40, "rembg": 0.38}, "semantic mIoU": {"original": 0.5, "rembg": 0.5}}
    assert segmentation_claim(trained, min_score=0.05)["verdict"] == "agree"
    gain = {"semantic mIoU": {"original": 0.40, "rembg": 0.45}}
    assert segmentation_claim(gain, min_score=0.05)["verdict"] == "inconclusive"


def test_setup_names_study_differences():
    lines = "\n".join(setup_lines(tiny_params()))
    assert "32 × 32 pixels (the study: 224)" in lines
    assert "4096-wide classifier" in lines
    assert "rembg `u2netp` (the study: `u2net`)" in lines
    assert "`grid.scratch` (random init): resnet18; augmentation: none." in lines
    assert "grid.pretrained" not in lines  # a block without models gets no line


def test_setup_at_study_settings():
    params = tiny_params(**{
        "data.dataset": "fashionstyle14",
        "grid.train.image_size": 224,
        "grid.train.light_vgg_head": False,
        "rembg.model": "u2net",
        "segment.instance.backbone": "resnext101_32x8d",
        "segment.instance.backbone_weights": "models/weights/resnext101_32x8d.pth",
    })
    lines = "\n".join(setup_lines(params))
    assert "the study" not in lines
    assert "4096-wide" not in lines
    assert "`data/raw/fashionstyle14`" in lines
