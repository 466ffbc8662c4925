"""Tests for the instance (Mask R-CNN) and semantic (segmentation-models-pytorch) segmentation stages."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from fashionbg import layout, segment_instance, segment_semantic
from fashionbg.errors import ConfigError, DataError
from test_coco import CATEGORY_NAMES, PERSON_LABEL, write_scene_dataset

DATASET = "tiny"
WIDTH, HEIGHT = 48, 64

BASE_PARAMS = {
    "data": {"dataset": DATASET},
    "segment": {
        "dataset": DATASET,
        "train_annotations": "annotations/instances_train.json",
        "eval_annotations": "annotations/instances_val.json",
        "train_images": ".",
        "eval_images": ".",
        "on_bad_image": "fail",
        "seed": 0,
        "num_workers": 0,
        "num_threads": 1,
        "instance": {
            "backbone": "resnet18",
            "backbone_weights": None,
            "trainable_layers": 5,
            "max_train_images": 0,
            "max_eval_images": 0,
            "min_size": 48,
            "max_size": 64,
            "epochs": 2,
            "batch_size": 2,
            "lr": 0.01,
            "warmup_steps": 2,
            "clip_grad_norm": 10.0,
            "rpn_pre_nms_top_n_train": 200,
            "rpn_post_nms_top_n_train": 100,
            "rpn_pre_nms_top_n_test": 100,
            "rpn_post_nms_top_n_test": 50,
            "box_batch_size_per_image": 16,
            "box_detections_per_img": 10,
            "mask_head_layers": [32],
        },
        "semantic": {
            "architecture": "unet",
            "encoder": "resnet18",
            "max_train_images": 0,
            "max_eval_images": 0,
            "height": 64,
            "width": 32,
            "epochs": 2,
            "batch_size": 2,
            "lr": 0.001,
            "labels": "labels",
            "extra_labels": ["person"],
        },
    }
}


def make_params(**changes) -> dict:
    """Return the tiny-run params with dotted keys below `segment` replaced, e.g. `instance__epochs=1`."""
    params = copy.deepcopy(BASE_PARAMS)
    for dotted, value in changes.items():
        node = params["segment"]
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    return params


@pytest.fixture(autouse=True)
def restore_torch_threads():
    """Undo the thread count that a stage's main sets, so other tests keep theirs."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def scene(tmp_path, monkeypatch) -> Path:
    """Build four train and two val images, their label maps and rembg cutouts; run from tmp_path."""
    monkeypatch.chdir(tmp_path)
    root = layout.raw_root(DATASET)
    write_scene_dataset(root, {"train": 4, "val": 2}, WIDTH, HEIGHT, seed=0, rembg_root=layout.REMBG_IMAGES)
    return root


def read_metrics(stage: str, variant: str) -> dict:
    return json.loads((layout.METRICS / "segment" / stage / variant / "metrics.json").read_text(encoding="utf-8"))


def leftover_partials() -> list[Path]:
    return [path for path in Path(".").rglob("*") if path.name.endswith((".partial", ".previous"))]


# Instance segmentation -----------------------------------------------------------------------------------------


def test_instance_trains_and_writes_outputs(scene):
    segment_instance.main(make_params(), "original")

    metrics = read_metrics("instance", "original")
    checkpoint = torch.load(layout.MODELS / "segment" / "instance" / "original.pt", weights_only=False)
    loss_plot = layout.METRICS / "segment" / "instance" / "original" / "plots" / "metrics" / "train" / "loss.tsv"

    assert math.isfinite(metrics["train"]["loss"])
    for iou_type in ("bbox", "segm"):
        assert set(metrics[iou_type]) == {"AP", "AP50", "AP75"}
        for value in metrics[iou_type].values():
            assert -1.0 <= value <= 1.0
    assert metrics["data"] == {"train_images": 4, "eval_images": 2}
    assert len(loss_plot.read_text().splitlines()) == 3  # header and one row per epoch
    assert checkpoint["category_ids"] == list(range(len(CATEGORY_NAMES)))
    assert checkpoint["variant"] == "original"
    assert "roi_heads.mask_predictor.mask_fcn_logits.weight" in checkpoint["model_state"]
    assert leftover_partials() == []


def test_instance_trains_on_crowd_and_empty_images(scene):
    path = scene / "annotations" / "instances_train.json"
    document = json.loads(path.read_text())
    document["annotations"] = [annotation for annotation in document["annotations"] if annotation["image_id"] != 0]
    for annotation in document["annotations"]:
        if annotation["image_id"] == 1:
            annotation["iscrowd"] = 1
    path.write_text(json.dumps(document))

    segment_instance.main(make_params(instance__batch_size=1, instance__hflip=False), "original")

    assert math.isfinite(read_metrics("instance", "original")["train"]["loss"])


def test_instance_rembg_reads_cutouts(scene):
    for original in scene.rglob("*.jpg"):
        original.unlink()

    segment_instance.main(make_params(instance__epochs=1), "rembg")

    assert (layout.MODELS / "segment" / "instance" / "rembg.pt").is_file()
    assert set(read_metrics("instance", "rembg")["segm"]) == {"AP", "AP50", "AP75"}


def test_instance_same_params_same_metrics(scene):
    params = make_params(instance__epochs=1)

    segment_instance.main(params, "original")
    first = read_metrics("instance", "original")
    segment_instance.main(params, "original")
    second = read_metrics("instance", "original")

    assert first == second


def test_instance_missing_images_follow_policy(scene):
    (scene / "casual" / "train_0000.jpg").unlink()

    with pytest.raises(DataError, match="train_0000.jpg"):
        segment_instance.main(make_params(instance__epochs=1), "original")

    segment_instance.main(make_params(instance__epochs=1, on_bad_image="skip"), "original")
    metrics = read_metrics("instance", "original")
    assert metrics["data"]["train_images"] == 3
    assert metrics["data"]["train_dropped"] == {"image_file_missing": 1, "annotation_of_skipped_image": 3}


def test_invalid_variant_raises(scene):
    with pytest.raises(ConfigError, match="original, rembg"):
        segment_instance.main(make_params(), "grayscale")
    with pytest.raises(ConfigError, match="original, rembg"):
        segment_semantic.main(make_params(), "grayscale")


def test_instance_settings_are_checked():
    with pytest.raises(ConfigError, match="max_size"):
        segment_instance.read_instance_settings(make_params(instance__max_size=32))
    with pytest.raises(ConfigError, match="resnet181"):
        segment_instance.read_instance_settings(make_params(instance__backbone="resnet181"))


def test_device_choice_matches_torch():
    assert segment_instance.select_device("cpu").type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert segment_instance.select_device("auto").type == expected
    if torch.cuda.is_available():
        assert segment_instance.select_device("cuda").type == "cuda"
    else:
        with pytest.raises(ConfigError, match="use cpu or auto"):
            segment_instance.select_device("cuda")


def test_study_backbone_builds():
    settings = segment_instance.read_instance_settings(
        make_params(instance__backbone="resnext101_32x8d", instance__trainable_layers=3)
    )

    model = segment_instance.build_model(settings, num_classes=47)

    assert model.roi_heads.box_predictor.cls_score.out_features == 47
    assert model.roi_heads.mask_predictor.mask_fcn_logits.out_channels == 47
    assert len(model.roi_heads.mask_head) == 1
    assert not model.backbone.body.conv1.weight.requires_grad
    assert model.backbone.body.layer4[0].conv2.groups == 32


def test_backbone_weights_load_from_file(tmp_path):
    weights = tmp_path / "resnet18.pth"
    reference = torchvision.models.resnet18(weights=None)
    torch.save(reference.state_dict(), weights)
    settings = segment_instance.read_instance_settings(make_params(instance__backbone_weights=str(weights)))

    model = segment_instance.build_model(settings, num_classes=11)

    assert torch.equal(model.backbone.body.conv1.weight, reference.conv1.weight)
    assert type(model.backbone.body.bn1).__name__ == "FrozenBatchNorm2d"


def test_backbone_weights_mismatch_raises(tmp_path):
    weights = tmp_path / "resnet34.pth"
    torch.save(torchvision.models.resnet34(weights=None).state_dict(), weights)
    settings = segment_instance.read_instance_settings(make_params(instance__backbone_weights=str(weights)))

    with pytest.raises(ConfigError, match="does not fit"):
        segment_instance.build_model(settings, num_classes=11)


def test_flip_moves_boxes_and_masks():
    image = torch.zeros(3, 4, 10)
    masks = torch.zeros(1, 4, 10, dtype=torch.uint8)
    masks[0, :, 1:3] = 1
    target = {"boxes": torch.tensor([[1.0, 0.0, 3.0, 4.0]]), "masks": masks}

    _, flipped = segment_instance.flip_horizontally(image, target)

    assert flipped["boxes"].tolist() == [[7.0, 0.0, 9.0, 4.0]]
    assert flipped["masks"][0, 0].nonzero().flatten().tolist() == [7, 8]


def test_failed_run_leaves_no_metrics_folder(tmp_path):
    target = tmp_path / "metrics" / "run"

    with pytest.raises(RuntimeError):
        with segment_instance.staged_live(target) as live:
            live.log_metric("train/loss", 1.0)
            raise RuntimeError("stop")

    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_eval_categories_must_match_train(scene):
    path = scene / "annotations" / "instances_val.json"
    document = json.loads(path.read_text())
    document["categories"] = document["categories"][:5]
    document["annotations"] = [a for a in document["annotations"] if a["category_id"] < 5]
    path.write_text(json.dumps(document))

    with pytest.raises(DataError, match="same categories"):
        segment_instance.load_splits(segment_instance.read_data_settings(make_params()), "original")


# Semantic segmentation -----------------------------------------------------------------------------------------


def test_semantic_trains_and_writes_outputs(scene):
    segment_semantic.main(make_params(), "original")

    metrics = read_metrics("semantic", "original")
    checkpoint = torch.load(layout.MODELS / "segment" / "semantic" / "original.pt", weights_only=False)

    assert math.isfinite(metrics["train"]["loss"])
    assert 0.0 <= metrics["mIoU"] <= 1.0
    assert 0.0 <= metrics["pixel_accuracy"] <= 1.0
    assert "background" in metrics["IoU"]
    assert checkpoint["classes"] == ["background", *CATEGORY_NAMES, "person"]
    assert leftover_partials() == []


def test_semantic_same_params_same_metrics(scene):
    segment_semantic.main(make_params(), "rembg")
    first = read_metrics("semantic", "rembg")
    segment_semantic.main(make_params(), "rembg")

    assert read_metrics("semantic", "rembg") == first


def test_semantic_rasterises_without_label_folder(scene):
    data = segment_instance.read_data_settings(make_params())
    settings = segment_semantic.read_semantic_settings(make_params())
    train_set, _ = segment_instance.load_splits(data, "original")
    written = {image.id: segment_semantic.read_label_map(scene / "labels" / Path(image.file_name).with_suffix(".png"))
               for image in train_set.images}
    for path in sorted((scene / "labels").rglob("*.png")):
        path.unlink()
    for folder in sorted((scene / "labels").rglob("*"), reverse=True):
        folder.rmdir()
    (scene / "labels").rmdir()

    source = segment_semantic.LabelSource.for_split(data, settings, "train", train_set, 12)
    segment_semantic.main(make_params(), "original")

    assert source.folder is None
    for image in train_set.images:
        rasterised = source(image)
        garments = interior((written[image.id] > 0) & (written[image.id] != PERSON_LABEL))
        agreement = (rasterised[garments] == written[image.id][garments]).mean()
        assert agreement > 0.97, image.file_name
        assert set(np.unique(rasterised)) <= set(range(len(CATEGORY_NAMES) + 1))
    assert "mIoU" in read_metrics("semantic", "original")


def interior(mask: np.ndarray) -> np.ndarray:
    """Keep the pixels of `mask` whose four neighbours are in it too.

    PIL paints a polygon's right and bottom edges and pycocotools does not, so edges may disagree.
    """
    padded = np.pad(mask, 1)
    return mask & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("delete", "label_map_missing"),
        ("resize", "label_map_size_mismatch"),
        ("out_of_range", "label_map_invalid"),
        ("rgb", "label_map_invalid"),
    ],
)
def test_bad_label_map_follows_policy(scene, damage, reason):
    path = scene / "labels" / "casual" / "train_0000.png"
    if damage == "delete":
        path.unlink()
    elif damage == "resize":
        Image.new("L", (WIDTH + 1, HEIGHT)).save(path)
    elif damage == "out_of_range":
        Image.new("L", (WIDTH, HEIGHT), 40).save(path)
    else:
        Image.new("RGB", (WIDTH, HEIGHT)).save(path)
    settings = segment_semantic.read_semantic_settings(make_params())
    data = segment_instance.read_data_settings(make_params(on_bad_image="skip"))
    train_set, _ = segment_instance.load_splits(data, "original")

    source = segment_semantic.LabelSource.for_split(data, settings, "train", train_set, 12)

    assert [image.file_name for image in source.dataset.images] == [
        "formal/train_0001.jpg",
        "casual/train_0002.jpg",
        "formal/train_0003.jpg",
    ]
    assert source.dataset.report.dropped == {reason: 1}
    failing = segment_instance.read_data_settings(make_params())
    with pytest.raises(DataError) as raised:
        segment_semantic.LabelSource.for_split(failing, settings, "train", train_set, 12)
    assert str(path) in str(raised.value)
    assert reason in str(raised.value)


def test_semantic_settings_are_checked():
    with pytest.raises(ConfigError, match="multiple of 32"):
        segment_semantic.read_semantic_settings(make_params(semantic__height=50))
    with pytest.raises(ConfigError, match="architecture"):
        segment_semantic.read_semantic_settings(make_params(semantic__architecture="transformer"))


def test_metric_key_flattens_class_names():
    assert segment_semantic.metric_key("shirt, blouse") == "shirt_blouse"
    assert segment_semantic.metric_key("headband, head covering, hair accessory") == "headband_head_covering_hair_accessory"


def test_rembg_variant_needs_same_dataset(scene):
    params = make_params()
    params["data"]["dataset"] = "demo"
    with pytest.raises(ConfigError, match="set both to the same folder"):
        segment_instance.main(params, "rembg")
