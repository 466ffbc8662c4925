"""Tests for the COCO / Fashionpedia reader, its bad-record policy and the COCOeval helpers."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils

from fashionbg import coco, layout
from fashionbg.errors import ConfigError, DataError

# Fashionpedia-format builders, also used by test_segment.py ----------------------------------------------------

CATEGORY_NAMES = ("shirt", "top", "sweater", "jacket", "pants", "skirt", "dress", "shoe", "bag", "hat")
SUPERCATEGORIES = {
    "shirt": "upperbody",
    "top": "upperbody",
    "sweater": "upperbody",
    "jacket": "upperbody",
    "pants": "lowerbody",
    "skirt": "lowerbody",
    "dress": "wholebody",
    "shoe": "legs and feet",
    "bag": "others",
    "hat": "head",
}
PERSON_LABEL = len(CATEGORY_NAMES) + 1  # label-map value of skin and hair, after the category labels 1..10


def fashionpedia_document(images: list[dict], annotations: list[dict]) -> dict:
    """Return a document with every top-level field and record field of Fashionpedia's instance files."""
    return {
        "info": {
            "year": 2020,
            "version": "1.0",
            "description": "Fashionpedia-format test data",
            "contributor": "fashionbg tests",
            "url": "https://fashionpedia.github.io/home/index.html",
            "date_created": "2020-04-01 12:00:00",
        },
        "categories": [
            {
                "id": index,
                "name": name,
                "supercategory": SUPERCATEGORIES[name],
                "level": 2,
                "taxonomy_id": f"100{index:02d}",
            }
            for index, name in enumerate(CATEGORY_NAMES)
        ],
        "attributes": [
            {"id": 0, "name": "symmetrical", "supercategory": "silhouette", "level": 1, "taxonomy_id": "10101"},
            {"id": 1, "name": "above-the-hip (length)", "supercategory": "length", "level": 1, "taxonomy_id": "10201"},
            {"id": 2, "name": "plain (pattern)", "supercategory": "textile pattern", "level": 1, "taxonomy_id": "10301"},
        ],
        "images": images,
        "annotations": annotations,
        "licenses": [{"id": 1, "name": "Attribution License", "url": "http://creativecommons.org/licenses/by/2.0/"}],
    }


def image_entry(image_id: int, file_name: str, width: int, height: int) -> dict:
    return {
        "id": image_id,
        "width": width,
        "height": height,
        "file_name": file_name,
        "license": 1,
        "time_captured": "March-August, 2018",
        "original_url": f"https://example.org/images/{image_id}.jpg",
        "isstatic": 1,
        "kaggle_id": f"{image_id:032x}",
    }


def polygon_bbox(polygon: list[int]) -> list[int]:
    xs, ys = polygon[0::2], polygon[1::2]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def annotation_entry(
    annotation_id: int,
    image_id: int,
    category_id: int,
    polygon: list[int],
    height: int,
    width: int,
    iscrowd: int = 0,
    segmentation: list | dict | None = None,
) -> dict:
    rle = mask_utils.merge(mask_utils.frPyObjects([polygon], height, width))
    return {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": category_id,
        "attribute_ids": [0, 2],
        "segmentation": [polygon] if segmentation is None else segmentation,
        "bbox": polygon_bbox(polygon),
        "area": int(mask_utils.area(rle)),
        "iscrowd": iscrowd,
    }


def rectangle(x1: int, y1: int, x2: int, y2: int) -> list[int]:
    return [x1, y1, x2, y1, x2, y2, x1, y2]


def draw_scene(rng: np.random.Generator, width: int, height: int, style: int) -> tuple[Image.Image, list, np.ndarray, np.ndarray]:
    """Draw a figure wearing garments on a textured background.

    Returns the RGB image, the garments as (category_id, polygon), the semantic label map
    (0 background, category_id + 1 for garments, PERSON_LABEL for skin) and the figure's foreground mask.
    """
    background = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8) // 2
    background[:, :, style % 3] += 100
    image = Image.fromarray(background)
    labels = Image.new("L", (width, height), 0)
    draw, draw_labels = ImageDraw.Draw(image), ImageDraw.Draw(labels)

    cx = width // 2 + int(rng.integers(-width // 10, width // 10 + 1))
    half = max(width // 6, 3)
    head = (cx - half // 2, height // 20, cx + half // 2, height // 5)
    body = rectangle(cx - half, height // 5, cx + half, height * 9 // 10)
    draw.rectangle(head, fill=(224, 172, 105))
    draw.polygon(body, fill=(224, 172, 105))
    draw_labels.rectangle(head, fill=PERSON_LABEL)
    draw_labels.polygon(body, fill=PERSON_LABEL)

    upper = int(rng.choice([0, 1, 2, 3]))
    lower = int(rng.choice([4, 5]))
    garments = [
        (upper, rectangle(cx - half, height // 5, cx + half, height // 2)),
        (lower, rectangle(cx - half, height // 2, cx + half, height * 4 // 5)),
        (7, rectangle(cx - half, height * 4 // 5 + 1, cx + half, height * 9 // 10)),
    ]
    if rng.random() < 0.5:
        garments.append((9, rectangle(cx - half // 2, height // 40, cx + half // 2, height // 10)))
    palette = {0: (200, 30, 30), 1: (30, 200, 30), 2: (30, 30, 200), 3: (120, 60, 20), 4: (20, 20, 90),
               5: (160, 20, 160), 7: (15, 15, 15), 9: (230, 230, 40)}
    for category_id, polygon in garments:
        draw.polygon(polygon, fill=palette[category_id])
        draw_labels.polygon(polygon, fill=category_id + 1)
    label_map = np.asarray(labels)
    return image, garments, label_map, label_map > 0


def write_scene_dataset(
    root: Path,
    split_sizes: dict[str, int],
    width: int,
    height: int,
    seed: int = 0,
    styles: tuple[str, ...] = ("casual", "formal"),
    rembg_root: Path | None = None,
    label_maps: bool = True,
) -> dict[str, dict]:
    """Write images `<style>/<stem>.jpg`, `annotations/instances_<split>.json` and label maps under `root`.

    With `rembg_root`, also write each image's background-removed RGBA copy where layout.rembg_image_path
    puts it. Returns the document of each split.
    """
    rng = np.random.default_rng(seed)
    documents = {}
    image_id = annotation_id = 0
    for split, count in split_sizes.items():
        images, annotations = [], []
        for _ in range(count):
            style = image_id % len(styles)
            relpath = f"{styles[style]}/{split}_{image_id:04d}.jpg"
            picture, garments, label_map, foreground = draw_scene(rng, width, height, style)
            (root / relpath).parent.mkdir(parents=True, exist_ok=True)
            picture.save(root / relpath, quality=95)
            if label_maps:
                label_path = root / "labels" / Path(relpath).with_suffix(".png")
                label_path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(label_map).save(label_path)
            if rembg_root is not None:
                cutout = picture.convert("RGBA")
                cutout.putalpha(Image.fromarray((foreground * 255).astype(np.uint8)))
                target = layout.rembg_image_path(relpath, rembg_root)
                target.parent.mkdir(parents=True, exist_ok=True)
                cutout.save(target)
            images.append(image_entry(image_id, relpath, width, height))
            for category_id, polygon in garments:
                annotations.append(annotation_entry(annotation_id, image_id, category_id, polygon, height, width))
                annotation_id += 1
            image_id += 1
        documents[split] = fashionpedia_document(images, annotations)
        path = root / "annotations" / f"instances_{split}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(documents[split]), encoding="utf-8")
    return documents


# Small fixture: three 32x24 images, ids starting at 0 --------------------------------------------------------

WIDTH, HEIGHT = 32, 24


def uncompressed_rle(mask: np.ndarray) -> dict:
    """Encode `mask` as COCO's uncompressed RLE: run lengths in column-major order, starting with a 0-run."""
    flat = mask.flatten(order="F").astype(np.uint8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0] == 1:
        counts = [0] + counts
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": counts}


def box_mask(x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    mask[y1:y2, x1:x2] = 1
    return mask


def small_document(image_dir: Path) -> dict:
    """Write three images and return a document with polygon, compressed RLE, uncompressed RLE and crowd annotations.

    Image 2 has no annotations.
    """
    image_dir.mkdir(parents=True, exist_ok=True)
    images = []
    for image_id in range(3):
        name = f"img{image_id}.jpg"
        Image.new("RGB", (WIDTH, HEIGHT), (image_id * 60, 100, 100)).save(image_dir / name)
        images.append(image_entry(image_id, name, WIDTH, HEIGHT))
    compressed = mask_utils.encode(np.asfortranarray(box_mask(2, 2, 12, 10)))
    annotations = [
        annotation_entry(0, 0, 0, rectangle(2, 2, 20, 14), HEIGHT, WIDTH),
        annotation_entry(
            1, 0, 4, rectangle(2, 2, 12, 10), HEIGHT, WIDTH,
            segmentation={"size": [HEIGHT, WIDTH], "counts": compressed["counts"].decode("ascii")},
        ),
        annotation_entry(2, 1, 9, rectangle(20, 4, 30, 20), HEIGHT, WIDTH,
                         segmentation=uncompressed_rle(box_mask(20, 4, 30, 20))),
        annotation_entry(3, 1, 7, rectangle(1, 1, 10, 8), HEIGHT, WIDTH, iscrowd=1),
    ]
    annotations[1]["bbox"] = [2, 2, 10, 8]
    annotations[2]["bbox"] = [20, 4, 10, 16]
    return fashionpedia_document(images, annotations)


def write_document(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def load(tmp_path: Path, document: dict, on_bad_image: str = "skip") -> coco.CocoDataset:
    path = write_document(tmp_path / "instances.json", document)
    return coco.load_annotations(path, image_path=lambda name: tmp_path / "images" / name, on_bad_image=on_bad_image)


@pytest.fixture
def document(tmp_path: Path) -> dict:
    return small_document(tmp_path / "images")


# Reading -------------------------------------------------------------------------------------------------------


def test_official_format_fields_are_kept(tmp_path, document):
    dataset = load(tmp_path, document, "fail")

    assert dataset.info["year"] == 2020
    assert dataset.licenses == document["licenses"]
    assert [attribute["id"] for attribute in dataset.attributes] == [0, 1, 2]
    assert dataset.categories[0]["supercategory"] == "upperbody"
    assert dataset.image_annotations(0)[0].attribute_ids == (0, 2)
    assert dataset.report.dropped == {}


def test_polygon_decodes_to_filled_area(tmp_path, document):
    dataset = load(tmp_path, document, "fail")
    record = dataset.image_annotations(0)[0]

    mask = coco.decode_mask(record.segmentation, HEIGHT, WIDTH)

    assert mask.shape == (HEIGHT, WIDTH)
    assert mask[8, 10] == 1
    assert mask[20, 28] == 0
    assert mask.sum() == document["annotations"][0]["area"]


def test_compressed_and_uncompressed_rle_decode(tmp_path, document):
    dataset = load(tmp_path, document, "fail")
    compressed = dataset.image_annotations(0)[1]
    uncompressed = dataset.image_annotations(1)[0]

    assert np.array_equal(coco.decode_mask(compressed.segmentation, HEIGHT, WIDTH), box_mask(2, 2, 12, 10))
    assert np.array_equal(coco.decode_mask(uncompressed.segmentation, HEIGHT, WIDTH), box_mask(20, 4, 30, 20))


def test_list_of_rle_parts_is_merged(tmp_path, document):
    left = uncompressed_rle(box_mask(0, 0, 4, 4))
    right = mask_utils.encode(np.asfortranarray(box_mask(6, 0, 10, 4)))
    document["annotations"][0]["segmentation"] = [left, {"size": [HEIGHT, WIDTH], "counts": right["counts"].decode()}]

    dataset = load(tmp_path, document, "fail")
    mask = coco.decode_mask(dataset.image_annotations(0)[0].segmentation, HEIGHT, WIDTH)

    assert mask.sum() == 32
    assert mask[2, 2] == 1
    assert mask[2, 8] == 1


def test_ids_from_zero_map_to_labels_and_back(tmp_path, document):
    dataset = load(tmp_path, document, "fail")

    assert dataset.label_of[0] == 1
    assert dataset.label_of[9] == 10
    assert dataset.category_of == {label: category_id for category_id, label in dataset.label_of.items()}
    assert dataset.num_labels == 11
    assert dataset.label_names[:2] == ["background", "shirt"]
    assert [record.label for record in dataset.image_annotations(0)] == [1, 5]

    results = coco.detections_to_results(
        0, np.array([[2.0, 2.0, 20.0, 14.0]]), np.array([0.9]), np.array([1]), None, dataset.category_of
    )
    assert results[0]["category_id"] == 0
    assert results[0]["bbox"] == [2.0, 2.0, 18.0, 12.0]


def test_crowd_kept_for_eval_not_training(tmp_path, document):
    dataset = load(tmp_path, document, "fail")
    image = dataset.images[1]

    boxes, labels, masks = dataset.instance_targets(image)
    ground_truth = dataset.to_coco()
    crowd = [annotation for annotation in ground_truth.dataset["annotations"] if annotation["iscrowd"]]

    assert labels.tolist() == [dataset.label_of[9]]
    assert boxes.tolist() == [[20.0, 4.0, 30.0, 20.0]]
    assert masks.shape == (1, HEIGHT, WIDTH)
    assert [(annotation["image_id"], annotation["category_id"]) for annotation in crowd] == [(1, 7)]
    assert dataset.report.crowd_annotations == 1


def test_image_without_annotations_is_kept(tmp_path, document):
    dataset = load(tmp_path, document, "fail")

    assert [image.id for image in dataset.images] == [0, 1, 2]
    assert dataset.report.images_without_annotations == 1
    boxes, labels, masks = dataset.instance_targets(dataset.images[2])
    assert boxes.shape == (0, 4)
    assert labels.shape == (0,)
    assert masks.shape == (0, HEIGHT, WIDTH)
    assert 2 in {image["id"] for image in dataset.to_coco().dataset["images"]}


def test_label_map_later_annotation_wins(tmp_path, document):
    dataset = load(tmp_path, document, "fail")

    label_map = dataset.label_map(dataset.images[0])

    assert label_map[5, 5] == dataset.label_of[4]  # inside both; annotation 1 comes later
    assert label_map[12, 18] == dataset.label_of[0]
    assert label_map[20, 30] == 0


def test_subset_is_seeded(tmp_path, document):
    dataset = load(tmp_path, document, "fail")

    first = dataset.subset(2, seed=3)
    second = dataset.subset(2, seed=3)

    assert [image.id for image in first.images] == [image.id for image in second.images]
    assert len(first.images) == 2
    assert set(first.annotations) <= {image.id for image in first.images}
    assert dataset.subset(0, seed=3) is dataset


# Bad records ---------------------------------------------------------------------------------------------------


def add_polygon_under_3_points(document, tmp_path):
    document["annotations"][0]["segmentation"] = [[1, 1, 5, 1]]


def add_rle_size_mismatch(document, tmp_path):
    document["annotations"][2]["segmentation"]["size"] = [HEIGHT + 1, WIDTH]


def add_bbox_zero_area(document, tmp_path):
    document["annotations"][0]["bbox"] = [2, 2, 0, 5]


def add_bbox_outside_image(document, tmp_path):
    document["annotations"][0]["bbox"] = [WIDTH + 5, 2, 4, 5]


def add_unknown_image_id(document, tmp_path):
    document["annotations"][0]["image_id"] = 999


def add_missing_image_file(document, tmp_path):
    document["images"].append(image_entry(7, "gone.jpg", WIDTH, HEIGHT))
    document["annotations"].append(annotation_entry(70, 7, 0, rectangle(1, 1, 9, 9), HEIGHT, WIDTH))
    document["annotations"].append(annotation_entry(71, 7, 1, rectangle(2, 2, 9, 9), HEIGHT, WIDTH))


def add_unknown_category_id(document, tmp_path):
    document["annotations"][0]["category_id"] = 77


def add_unreadable_image(document, tmp_path):
    (tmp_path / "images" / "img2.jpg").write_bytes(b"not an image")


def add_image_size_mismatch(document, tmp_path):
    document["images"][2]["width"] = WIDTH * 2


def add_invalid_rle_counts(document, tmp_path):
    document["annotations"][1]["segmentation"]["counts"] = "garbage!!"


def add_malformed_annotation(document, tmp_path):
    del document["annotations"][0]["image_id"]


def add_malformed_image(document, tmp_path):
    document["images"][2]["height"] = 0


BAD_RECORDS = [
    # (mutation, expected dropped counts, annotations kept of 4, text the fail message contains)
    (add_polygon_under_3_points, {"polygon_under_3_points": 1}, 3, "annotation id 0"),
    (add_rle_size_mismatch, {"rle_size_mismatch": 1}, 3, "annotation id 2"),
    (add_bbox_zero_area, {"bbox_zero_area": 1}, 3, "annotation id 0"),
    (add_bbox_outside_image, {"bbox_zero_area": 1}, 3, "annotation id 0"),
    (add_unknown_image_id, {"image_id_unknown": 1}, 3, "image_id 999"),
    (add_missing_image_file, {"image_file_missing": 1, "annotation_of_skipped_image": 2}, 4, "gone.jpg"),
    (add_unknown_category_id, {"category_id_unknown": 1}, 3, "category_id 77"),
    (add_unreadable_image, {"image_unreadable": 1}, 4, "img2.jpg"),
    (add_image_size_mismatch, {"image_size_mismatch": 1}, 4, "img2.jpg"),
    (add_invalid_rle_counts, {"segmentation_invalid": 1}, 3, "annotation id 1"),
    (add_malformed_annotation, {"annotation_malformed": 1}, 3, "annotation id 0"),
    (add_malformed_image, {"image_malformed": 1}, 4, "image id 2"),
]


@pytest.mark.parametrize(("mutate", "dropped", "kept", "named"), BAD_RECORDS, ids=lambda case: getattr(case, "__name__", None))
def test_bad_record_skip_counts(tmp_path, document, mutate, dropped, kept, named):
    mutate(document, tmp_path)

    dataset = load(tmp_path, document, "skip")

    assert dict(dataset.report.dropped) == dropped
    assert dataset.report.annotations == kept
    for reason, count in dropped.items():
        assert f"{reason}={count}" in dataset.report.summary()


@pytest.mark.parametrize(("mutate", "dropped", "kept", "named"), BAD_RECORDS, ids=lambda case: getattr(case, "__name__", None))
def test_bad_record_fail_raises(tmp_path, document, mutate, dropped, kept, named):
    mutate(document, tmp_path)

    with pytest.raises(DataError) as raised:
        load(tmp_path, document, "fail")

    message = str(raised.value)
    reason = next(reason for reason in dropped if reason != coco.ANNOTATION_OF_SKIPPED_IMAGE)
    assert named in message
    assert reason in message
    assert "on_bad_image: skip" in message


def test_exif_rotated_image_checked_upright(tmp_path, document):
    exif = Image.Exif()
    exif[coco.EXIF_ORIENTATION_TAG] = 6  # stored sideways, shown rotated a quarter turn
    Image.new("RGB", (HEIGHT, WIDTH)).save(tmp_path / "images" / "img2.jpg", exif=exif)

    upright = load(tmp_path, document, "fail")
    document["images"][2].update(width=HEIGHT, height=WIDTH)
    stored = load(tmp_path, document, "skip")

    assert [image.id for image in upright.images] == [0, 1, 2]
    assert dict(stored.report.dropped) == {"image_size_mismatch": 1}


def test_all_bad_records_counted_together(tmp_path, document):
    for mutate in (add_polygon_under_3_points, add_rle_size_mismatch, add_missing_image_file):
        mutate(document, tmp_path)
    extra = [
        annotation_entry(80, 1, 2, rectangle(0, 0, 9, 9), HEIGHT, WIDTH),
        annotation_entry(81, 555, 2, rectangle(0, 0, 9, 9), HEIGHT, WIDTH),
        annotation_entry(82, 1, 42, rectangle(0, 0, 9, 9), HEIGHT, WIDTH),
        annotation_entry(83, 2, 3, rectangle(0, 0, 9, 9), HEIGHT, WIDTH),
    ]
    extra[0]["bbox"] = [3, 3, 4, 0]
    document["annotations"] += extra

    dataset = load(tmp_path, document, "skip")

    assert dict(dataset.report.dropped) == {
        "polygon_under_3_points": 1,
        "rle_size_mismatch": 1,
        "image_file_missing": 1,
        "annotation_of_skipped_image": 2,
        "bbox_zero_area": 1,
        "image_id_unknown": 1,
        "category_id_unknown": 1,
    }
    assert dataset.report.annotations == 3  # annotations 1, 3 and 83
    assert dataset.report.images == 3
    assert dataset.report.images_without_annotations == 0


def test_report_logs_one_summary_line(tmp_path, document, caplog):
    add_unknown_category_id(document, tmp_path)
    dataset = load(tmp_path, document, "skip")

    with caplog.at_level(logging.INFO, logger="fashionbg.coco"):
        dataset.report.log()

    assert len(caplog.records) == 1
    assert caplog.records[0].levelno == logging.WARNING
    assert "kept 3 images and 3 annotations" in caplog.records[0].getMessage()
    assert "category_id_unknown=1" in caplog.records[0].getMessage()


def test_invalid_policy_raises_config_error(tmp_path, document):
    with pytest.raises(ConfigError, match="ignore"):
        load(tmp_path, document, "ignore")


def test_truncated_json_names_file(tmp_path, document):
    path = tmp_path / "instances_train.json"
    path.write_text(json.dumps(document)[:150], encoding="utf-8")

    with pytest.raises(DataError) as raised:
        coco.load_annotations(path)

    assert str(path) in str(raised.value)
    assert "truncated" in str(raised.value)


def test_missing_file_and_missing_lists(tmp_path):
    with pytest.raises(DataError, match="not found"):
        coco.load_annotations(tmp_path / "absent.json")

    path = write_document(tmp_path / "no_images.json", {"annotations": [], "categories": []})
    with pytest.raises(DataError, match="'images'"):
        coco.load_annotations(path)


# Evaluation ----------------------------------------------------------------------------------------------------


def ground_truth_detections(dataset: coco.CocoDataset) -> list[dict]:
    """Turn every non-crowd ground-truth instance into a detection with score 1."""
    results = []
    for image in dataset.images:
        boxes, labels, masks = dataset.instance_targets(image)
        results += coco.detections_to_results(
            image.id, boxes, np.ones(len(labels)), labels, masks[:, None].astype(np.float32), dataset.category_of
        )
    return results


def test_ground_truth_predictions_score_ap_one(tmp_path, document):
    dataset = load(tmp_path, document, "fail")

    metrics = coco.evaluate_results(dataset.to_coco(), ground_truth_detections(dataset))

    assert set(metrics) == {f"{iou}/{name}" for iou in ("bbox", "segm") for name in ("AP", "AP50", "AP75")}
    for name, value in metrics.items():
        assert value == pytest.approx(1.0), name


def test_scene_dataset_ground_truth_scores_ap_one(tmp_path):
    root = tmp_path / "raw"
    write_scene_dataset(root, {"val": 4}, width=48, height=64, seed=1)
    dataset = coco.load_annotations(
        root / "annotations" / "instances_val.json", image_path=lambda name: root / name, on_bad_image="fail"
    )

    metrics = coco.evaluate_results(dataset.to_coco(), ground_truth_detections(dataset))

    assert metrics["bbox/AP"] == pytest.approx(1.0)
    assert metrics["segm/AP"] == pytest.approx(1.0)


def test_wrong_category_lowers_ap(tmp_path, document):
    dataset = load(tmp_path, document, "fail")
    results = ground_truth_detections(dataset)
    results[0]["category_id"] = 3

    metrics = coco.evaluate_results(dataset.to_coco(), results)

    assert metrics["bbox/AP"] < 1.0
    assert metrics["segm/AP"] < 1.0


def test_no_predictions_score_zero(tmp_path, document):
    dataset = load(tmp_path, document, "fail")

    metrics = coco.evaluate_results(dataset.to_coco(), [])

    assert metrics["bbox/AP"] == 0.0
    assert metrics["segm/AP50"] == 0.0


def test_results_are_json_ready(tmp_path, document):
    dataset = load(tmp_path, document, "fail")
    results = ground_truth_detections(dataset)

    restored = json.loads(json.dumps(results))

    assert restored == results
    assert isinstance(results[0]["segmentation"]["counts"], str)
