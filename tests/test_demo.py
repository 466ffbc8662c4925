"""Tests of the synthetic fashion dataset generator."""

from __future__ import annotations

import csv
import json
import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from fashionbg import demo
from fashionbg.errors import ConfigError

SMALL = dict(styles=3, images_per_style=6, width=96, height=128, seed=3)


def _relative_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "demo"
    demo.generate_demo(root, **SMALL)
    return root


def test_generation_is_byte_identical(dataset, tmp_path):
    again = tmp_path / "again"
    demo.generate_demo(again, **SMALL)
    files = _relative_files(dataset)
    assert files == _relative_files(again)
    for name in files:
        assert (dataset / name).read_bytes() == (again / name).read_bytes(), name


def test_other_seed_changes_images(dataset, tmp_path):
    other = tmp_path / "other"
    demo.generate_demo(other, **{**SMALL, "seed": 4})
    name = "conservative/conservative_00000.jpg"
    assert (dataset / name).read_bytes() != (other / name).read_bytes()


def test_rerun_replaces_stale_files(tmp_path):
    root = tmp_path / "demo"
    demo.generate_demo(root, **{**SMALL, "styles": 3})
    demo.generate_demo(root, **{**SMALL, "styles": 2})
    assert (root / "conservative").is_dir()
    assert not (root / "ethnic").exists()
    assert not (root / "masks" / "ethnic").exists()
    assert [path.name for path in tmp_path.iterdir()] == ["demo"]


def test_layout_and_summary(dataset):
    record = json.loads((dataset / "demo.json").read_text())
    styles = list(demo.STYLE_NAMES[: SMALL["styles"]])
    assert record["params"]["styles"] == SMALL["styles"]
    assert record["params"]["split"] == {"train": 0.5, "val": 0.1, "test": 0.4}
    assert record["counts"]["styles"] == styles
    assert record["counts"]["images"] == SMALL["styles"] * SMALL["images_per_style"]
    jpegs = sorted(dataset.glob("*/*.jpg"))
    assert len(jpegs) == record["counts"]["images"]
    ids = [int(path.stem.rsplit("_", 1)[1]) for path in jpegs]
    assert len(set(ids)) == len(ids)
    for path in jpegs:
        assert path.parent.name in styles
        assert path.stem.startswith(path.parent.name + "_")


@pytest.mark.parametrize(
    "images, split, expected",
    [
        (50, (0.5, 0.1, 0.4), (25, 5, 20)),
        (6, (0.5, 0.1, 0.4), (3, 1, 2)),
        (3, (0.5, 0.1, 0.4), (1, 1, 1)),
        (10, (0.8, 0.1, 0.1), (8, 1, 1)),
        (7, (1 / 3, 1 / 3, 1 / 3), (3, 2, 2)),
    ],
)
def test_split_counts(images, split, expected):
    counts = demo.split_counts(images, split)
    assert counts == expected
    assert sum(counts) == images


def test_csv_splits_are_stratified(dataset):
    expected = dict(zip(demo.SPLIT_NAMES, demo.split_counts(SMALL["images_per_style"], demo.DEFAULT_SPLIT)))
    seen = []
    for split in demo.SPLIT_NAMES:
        path = dataset / f"{split}.csv"
        assert path.read_text().splitlines()[0] == "path,label"
        rows = _read_csv(path)
        per_style = Counter(row["label"] for row in rows)
        assert per_style == {style: expected[split] for style in demo.STYLE_NAMES[: SMALL["styles"]]}
        for row in rows:
            assert row["path"].split("/")[0] == row["label"]
            assert (dataset / row["path"]).is_file()
        seen += [row["path"] for row in rows]
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(str(path.relative_to(dataset)) for path in dataset.glob("*/*.jpg"))


def test_masks_and_labels_match_images(dataset):
    for image_path in sorted(dataset.glob("*/*.jpg")):
        style, stem = image_path.parent.name, image_path.stem
        image = Image.open(image_path)
        mask = Image.open(dataset / "masks" / style / f"{stem}.png")
        labels = Image.open(dataset / "labels" / style / f"{stem}.png")
        assert image.mode == "RGB"
        assert mask.mode == "L"
        assert labels.mode == "L"
        assert mask.size == image.size == (SMALL["width"], SMALL["height"])
        assert labels.size == image.size
        mask_values = np.asarray(mask)
        label_values = np.asarray(labels)
        assert set(np.unique(mask_values)) <= {0, 255}
        assert set(np.unique(label_values)) <= set(range(demo.PERSON_LABEL + 1))
        assert np.array_equal(mask_values == 255, label_values > 0)
        assert 0.03 < (mask_values == 255).mean() < 0.6


def test_annotations_round_trip(dataset):
    params = demo.validate_params(**SMALL)
    splits = demo.assign_splits(params)
    checked = 0
    for split in demo.SPLIT_NAMES:
        coco = COCO(str(dataset / "annotations" / f"instances_{split}.json"))
        assert sorted(coco.cats) == list(range(len(demo.CATEGORIES)))
        assert len(coco.imgs) == sum(1 for name in splits.values() if name == split)
        for image_id, image in coco.imgs.items():
            assert (dataset / image["file_name"]).is_file()
            style_index, image_index = divmod(image_id, SMALL["images_per_style"])
            assert splits[(style_index, image_index)] == split
            sample = demo.render_sample(params, style_index, image_index)
            for annotation in coco.imgToAnns[image_id]:
                visible = sample.instance_masks[annotation["id"] % 100]
                decoded = coco.annToMask(annotation).astype(bool)
                iou = (decoded & visible).sum() / (decoded | visible).sum()
                assert iou >= 0.9, (image["file_name"], annotation["category_id"], iou)
                assert annotation["area"] == int(visible.sum())
                assert annotation["area"] >= demo.MIN_INSTANCE_AREA
                ys, xs = np.nonzero(visible)
                assert annotation["bbox"] == [
                    xs.min(),
                    ys.min(),
                    xs.max() - xs.min() + 1,
                    ys.max() - ys.min() + 1,
                ]
                assert annotation["iscrowd"] == 0
                assert all(0 <= k < len(demo.ATTRIBUTES) for k in annotation["attribute_ids"])
                checked += 1
    assert checked > 3 * SMALL["styles"] * SMALL["images_per_style"]


def test_annotations_cover_label_map(dataset):
    for split in demo.SPLIT_NAMES:
        coco = COCO(str(dataset / "annotations" / f"instances_{split}.json"))
        for image_id, image in coco.imgs.items():
            path = Path(image["file_name"])
            labels = np.asarray(Image.open(dataset / "labels" / path.parent / f"{path.stem}.png"))
            for category in range(len(demo.CATEGORIES)):
                annotated = np.zeros(labels.shape, bool)
                for annotation in coco.imgToAnns[image_id]:
                    if annotation["category_id"] == category:
                        annotated |= coco.annToMask(annotation).astype(bool)
                labelled = labels == category + 1
                # Only instances under MIN_INSTANCE_AREA pixels may be labelled but not annotated.
                assert (labelled & ~annotated).sum() < 2 * demo.MIN_INSTANCE_AREA
                assert (annotated & ~labelled).sum() <= 0.1 * max(1, annotated.sum())


def test_mask_polygons_keep_holes():
    mask = np.zeros((40, 40), bool)
    mask[5:35, 5:35] = True
    mask[12:20, 12:25] = False
    mask[24:30, 20:30] = False
    mask[2:4, 37:39] = True
    polygons = demo.mask_polygons(mask)
    from pycocotools import mask as mask_utils

    decoded = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygons, 40, 40))).astype(bool)
    assert len(polygons) == 2
    assert np.array_equal(decoded, mask)


def test_full_background_bias_gives_each_style_its_family(tmp_path):
    root = tmp_path / "demo"
    demo.generate_demo(root, **{**SMALL, "styles": 4, "images_per_style": 4, "background_bias": 1.0})
    record = json.loads((root / "demo.json").read_text())
    families = {}
    for image in record["images"]:
        families.setdefault(image["style"], set()).add(image["background"])
    for index, style in enumerate(demo.STYLE_NAMES[:4]):
        assert families[style] == {demo.background_family(index)}
    assert len({demo.background_family(index) for index in range(len(demo.STYLE_NAMES))}) == len(
        demo.STYLE_NAMES
    )


def test_zero_background_bias_mixes_families():
    params = demo.validate_params(styles=2, images_per_style=40, background_bias=0.0)
    families = [demo.choose_background(params, 0, index) for index in range(40)]
    assert len(set(families)) > 5
    own = sum(family == demo.background_family(0) for family in families)
    assert own < 10


def test_background_bias_keeps_figures():
    unbiased = demo.render_sample(demo.validate_params(**SMALL), 1, 2)
    biased = demo.render_sample(demo.validate_params(**{**SMALL, "background_bias": 1.0}), 1, 2)
    assert np.array_equal(unbiased.mask, biased.mask)
    assert np.array_equal(unbiased.labels, biased.labels)


@pytest.mark.parametrize(
    "name, value",
    [
        ("styles", 1),
        ("styles", 15),
        ("styles", 2.5),
        ("images_per_style", 2),
        ("images_per_style", True),
        ("width", 32),
        ("height", 5000),
        ("seed", -1),
        ("background_bias", 1.5),
        ("background_bias", float("nan")),
        ("split", (0.5, 0.5)),
        ("split", (0.6, 0.2, 0.4)),
        ("split", (0.9, 0.0, 0.1)),
        ("split", {"train": 0.5, "test": 0.5}),
    ],
)
def test_bad_params_raise_config_error(tmp_path, name, value):
    with pytest.raises(ConfigError) as error:
        demo.generate_demo(tmp_path / "demo", **{**SMALL, name: value})
    message = str(error.value)
    assert name in message
    assert not (tmp_path / "demo").exists()


def test_bad_param_message_names_value_and_range():
    with pytest.raises(ConfigError, match=r"demo\.styles must be an integer from 2 to 14, got 20"):
        demo.validate_params(styles=20)


def test_main_writes_data_raw_demo(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    params = {
        "demo": {
            **SMALL,
            "styles": 2,
            "images_per_style": 3,
            "split": {"train": 0.4, "val": 0.2, "test": 0.4},
        }
    }
    with caplog.at_level(logging.INFO, logger="fashionbg.demo"):
        demo.main(params)
    record = json.loads((tmp_path / "data/raw/demo/demo.json").read_text())
    assert record["params"]["split"] == {"train": 0.4, "val": 0.2, "test": 0.4}
    assert record["counts"]["images"] == 6
    assert any("6 demo images" in message for message in caplog.messages)


def test_main_rejects_unknown_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="colour"):
        demo.main({"demo": {**SMALL, "colour": 1}})
