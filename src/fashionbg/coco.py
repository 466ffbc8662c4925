"""Read COCO and Fashionpedia instance annotations with per-record checks, and score predictions with COCOeval.

Fashionpedia's `instances_attributes_{train,val}2020.json` files are read unchanged. Their category ids start
at 0, so categories map to contiguous labels 1..K in id order and label 0 stays free for the background.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from .errors import ConfigError, DataError

_logger = logging.getLogger(__name__)

POLICIES = ("fail", "skip")
IOU_TYPES = ("bbox", "segm")
COCO_AP_NAMES = ("AP", "AP50", "AP75")  # the first three entries of COCOeval.stats, in that order

# Reasons for dropping a record, each with the fix that the error message suggests. Image reasons
# count images and annotation reasons count annotations.
IMAGE_PROBLEMS = {
    "image_malformed": "give the record an integer id, a file_name and positive integer width and height",
    "image_id_duplicate": "give each image record its own id",
    "image_file_missing": "restore the file, or remove the image and its annotations from the JSON file",
    "image_unreadable": "replace the file with a valid image",
    "image_size_mismatch": "make the record's width and height match the file",
}
ANNOTATION_PROBLEMS = {
    "annotation_malformed": "give the annotation integer id, image_id and category_id and a numeric bbox [x, y, w, h]",
    "image_id_unknown": "add the image to the file's images, or remove the annotation",
    "category_id_unknown": "add the category to the file's categories, or correct category_id",
    "bbox_zero_area": "give the box a positive width and height inside the image",
    "polygon_under_3_points": "remove polygons with fewer than 3 points (6 coordinates)",
    "rle_size_mismatch": "encode the RLE at the image's [height, width]",
    "segmentation_invalid": "store polygons as lists of x, y pairs or RLE as {size, counts}",
}
EXIF_ORIENTATION_TAG = 0x0112
EXIF_QUARTER_TURNS = (5, 6, 7, 8)  # orientations whose upright image swaps width and height

# Reason counted for annotations dropped together with their image. It never makes a load fail on its own.
ANNOTATION_OF_SKIPPED_IMAGE = "annotation_of_skipped_image"


@dataclass(frozen=True)
class ImageRecord:
    """One entry of the file's `images`, with the file the caller reads it from when files were checked."""

    id: int
    file_name: str
    width: int
    height: int
    path: Path | None = None


@dataclass(frozen=True)
class AnnotationRecord:
    """One checked instance annotation, whose `segmentation` contains polygons or one RLE dict as in the file."""

    id: int
    image_id: int
    category_id: int
    label: int  # contiguous label 1..K of category_id
    bbox: tuple[float, float, float, float]  # x, y, width, height in pixels, as in the file
    area: float | None  # the file's area; None when it is missing
    iscrowd: bool
    segmentation: list | dict
    attribute_ids: tuple[int, ...] = ()


@dataclass
class LoadReport:
    """Counts of what a load kept and dropped, per reason."""

    path: Path
    images: int = 0
    annotations: int = 0
    crowd_annotations: int = 0
    images_without_annotations: int = 0
    dropped: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        kept = (
            f"{self.path}: kept {self.images} images and {self.annotations} annotations "
            f"({self.crowd_annotations} crowd, {self.images_without_annotations} images without annotations)"
        )
        if not self.dropped:
            return f"{kept}; dropped none"
        counts = ", ".join(f"{reason}={count}" for reason, count in sorted(self.dropped.items()))
        return f"{kept}; dropped {counts}"

    def log(self, logger: logging.Logger = _logger) -> None:
        logger.log(logging.WARNING if self.dropped else logging.INFO, "%s", self.summary())


@dataclass
class CocoDataset:
    """The checked content of one annotation file."""

    path: Path
    info: dict
    licenses: list
    categories: list[dict]  # sorted by id
    attributes: list[dict]
    images: list[ImageRecord]  # sorted by id
    annotations: dict[int, list[AnnotationRecord]]  # by image id, each list in file order
    report: LoadReport

    @property
    def category_ids(self) -> list[int]:
        return [category["id"] for category in self.categories]

    @property
    def label_of(self) -> dict[int, int]:
        """Map each category id to its contiguous label 1..K."""
        return {category_id: index + 1 for index, category_id in enumerate(self.category_ids)}

    @property
    def category_of(self) -> dict[int, int]:
        """Map each contiguous label 1..K back to the file's category id."""
        return {index + 1: category_id for index, category_id in enumerate(self.category_ids)}

    @property
    def num_labels(self) -> int:
        """Number of labels including the background label 0."""
        return len(self.categories) + 1

    @property
    def label_names(self) -> list[str]:
        return ["background"] + [str(category["name"]) for category in self.categories]

    def image_annotations(self, image_id: int) -> list[AnnotationRecord]:
        return self.annotations.get(image_id, [])

    def subset(self, count: int, seed: int) -> CocoDataset:
        """Return a copy with `count` images drawn at random with `seed`, or self when count is 0 or covers all."""
        if count <= 0 or count >= len(self.images):
            return self
        rng = np.random.default_rng(seed)
        chosen = sorted(rng.choice(len(self.images), size=count, replace=False).tolist())
        images = [self.images[index] for index in chosen]
        kept_ids = {image.id for image in images}
        annotations = {image_id: records for image_id, records in self.annotations.items() if image_id in kept_ids}
        report = replace(
            self.report,
            images=len(images),
            annotations=sum(len(records) for records in annotations.values()),
            crowd_annotations=sum(record.iscrowd for records in annotations.values() for record in records),
            images_without_annotations=sum(1 for image in images if not annotations.get(image.id)),
            dropped=Counter(self.report.dropped),
        )
        return replace(self, images=images, annotations=annotations, report=report)

    def instance_targets(self, image: ImageRecord) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the training targets of `image`: boxes (n, 4) as x1, y1, x2, y2, labels (n,) and masks (n, h, w).

        Crowd annotations are left out, as Mask R-CNN trains on single instances only.
        """
        records = [record for record in self.image_annotations(image.id) if not record.iscrowd]
        boxes = np.zeros((len(records), 4), dtype=np.float32)
        labels = np.zeros(len(records), dtype=np.int64)
        masks = np.zeros((len(records), image.height, image.width), dtype=np.uint8)
        for index, record in enumerate(records):
            boxes[index] = clip_box(record.bbox, image.width, image.height)
            labels[index] = record.label
            masks[index] = decode_mask(record.segmentation, image.height, image.width)
        return boxes, labels, masks

    def label_map(self, image: ImageRecord) -> np.ndarray:
        """Rasterise the annotations of `image` into an (h, w) uint8 map of labels, 0 for background.

        Annotations are painted in file order, so a later annotation overwrites an earlier one where they
        overlap. Crowd regions are painted too, because their pixels do belong to the category.
        """
        if self.num_labels > 255:
            raise DataError(f"{self.path}: {len(self.categories)} categories do not fit a uint8 label map")
        label_map = np.zeros((image.height, image.width), dtype=np.uint8)
        for record in self.image_annotations(image.id):
            mask = decode_mask(record.segmentation, image.height, image.width)
            label_map[mask > 0] = record.label
        return label_map

    def to_coco(self) -> COCO:
        """Build the pycocotools ground truth of the kept images and annotations, crowd annotations included.

        Annotation ids are renumbered 1..N in image order, because COCOeval records a match as the matched
        annotation's id and so treats a ground truth with id 0 as never matched.
        """
        images = [
            {"id": image.id, "file_name": image.file_name, "width": image.width, "height": image.height}
            for image in self.images
        ]
        annotations = []
        for image in self.images:
            for record in self.image_annotations(image.id):
                area = record.area
                if area is None:
                    area = float(mask_utils.area(segmentation_to_rle(record.segmentation, image.height, image.width)))
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": record.image_id,
                        "category_id": record.category_id,
                        "bbox": list(record.bbox),
                        "area": area,
                        "iscrowd": int(record.iscrowd),
                        "segmentation": record.segmentation,
                    }
                )
        ground_truth = COCO()
        ground_truth.dataset = {
            "info": self.info,
            "images": images,
            "annotations": annotations,
            "categories": [dict(category) for category in self.categories],
        }
        with _captured_stdout():
            ground_truth.createIndex()
        return ground_truth


# ---------------------------------------------------------------------------------------------------------------
# Loading


class _RecordPolicy:
    """Apply `on_bad_image` to each problem found: raise DataError, or count the record and drop it."""

    def __init__(self, path: Path, policy: str, policy_key: str, report: LoadReport):
        if policy not in POLICIES:
            raise ConfigError(f"{policy_key}: invalid value {policy!r}; use one of {', '.join(POLICIES)}")
        self.path = path
        self.policy = policy
        self.policy_key = policy_key
        self.report = report

    def reject(self, record_name: str, reason: str, detail: str) -> None:
        fix = IMAGE_PROBLEMS.get(reason) or ANNOTATION_PROBLEMS[reason]
        if self.policy == "fail":
            raise DataError(
                f"{self.path}: {record_name}: {detail} ({reason}); {fix}, or set {self.policy_key}: skip to drop such records"
            )
        self.report.dropped[reason] += 1
        _logger.debug("%s: %s: %s (%s); dropped", self.path, record_name, detail, reason)


def load_annotations(
    path: Path | str,
    *,
    image_path: Callable[[str], Path] | None = None,
    on_bad_image: str = "fail",
    policy_key: str = "on_bad_image",
) -> CocoDataset:
    """Read a COCO or Fashionpedia instance annotation file and check every image and annotation record.

    `image_path` maps a record's file_name to the file on disk. When given, each file must exist, open as
    an image and have the record's size. Bad records raise DataError under `on_bad_image: fail`, or are
    dropped and counted in `report.dropped` under `skip`. A file that is not valid JSON, or lacks the
    top-level images, annotations and categories lists, always raises DataError. `policy_key` is the
    name of the setting that error messages tell the user to change.
    """
    path = Path(path)
    data = read_annotation_json(path)
    report = LoadReport(path=path)
    policy = _RecordPolicy(path, on_bad_image, policy_key, report)

    categories = _read_categories(path, data["categories"])
    label_of = {category["id"]: index + 1 for index, category in enumerate(categories)}
    images, skipped_image_ids = _read_images(data["images"], image_path, policy)
    annotations = _read_annotations(data["annotations"], images, skipped_image_ids, label_of, policy)

    kept_images = sorted(images.values(), key=lambda image: image.id)
    report.images = len(kept_images)
    report.annotations = sum(len(records) for records in annotations.values())
    report.crowd_annotations = sum(record.iscrowd for records in annotations.values() for record in records)
    report.images_without_annotations = sum(1 for image in kept_images if not annotations.get(image.id))
    return CocoDataset(
        path=path,
        info=data.get("info") if isinstance(data.get("info"), dict) else {},
        licenses=data.get("licenses") if isinstance(data.get("licenses"), list) else [],
        categories=categories,
        attributes=data.get("attributes") if isinstance(data.get("attributes"), list) else [],
        images=kept_images,
        annotations=annotations,
        report=report,
    )


def read_annotation_json(path: Path) -> dict:
    """Parse `path` and check its top-level structure; every failure raises DataError naming the file."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: annotation file not found; check the path in params.yaml") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read the annotation file: {error.strerror}") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(
            f"{path}: invalid JSON ({error}); the file may be truncated, so download or generate it again"
        ) from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object with images, annotations and categories at the top level")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise DataError(f"{path}: missing or invalid top-level list {key!r}; this is not a COCO instance file")
    return data


def _read_categories(path: Path, raw_categories: list) -> list[dict]:
    categories = []
    for raw in raw_categories:
        if not isinstance(raw, dict) or not _is_int(raw.get("id")) or not isinstance(raw.get("name"), str):
            raise DataError(f"{path}: invalid category {raw!r}; each category needs an integer id and a name")
        categories.append(raw)
    ids = [category["id"] for category in categories]
    duplicates = sorted(category_id for category_id, count in Counter(ids).items() if count > 1)
    if duplicates:
        raise DataError(f"{path}: duplicate category ids {duplicates}; give each category its own id")
    if not categories:
        raise DataError(f"{path}: the categories list is empty; a model needs at least one category")
    return sorted(categories, key=lambda category: category["id"])


def _read_images(
    raw_images: list, image_path: Callable[[str], Path] | None, policy: _RecordPolicy
) -> tuple[dict[int, ImageRecord], set[int]]:
    """Return the kept images by id, and the ids of images that were present but dropped."""
    images: dict[int, ImageRecord] = {}
    skipped: set[int] = set()
    for position, raw in enumerate(raw_images):
        image_id = raw.get("id") if isinstance(raw, dict) else None
        record_name = f"image id {image_id}" if _is_int(image_id) else f"images[{position}]"
        if not _is_valid_image_record(raw):
            if _is_int(image_id):
                skipped.add(image_id)
            policy.reject(record_name, "image_malformed", f"invalid image record {_shorten(raw)}")
            continue
        if image_id in images or image_id in skipped:
            policy.reject(record_name, "image_id_duplicate", "the id is used by an earlier image record")
            continue
        record = ImageRecord(id=image_id, file_name=raw["file_name"], width=raw["width"], height=raw["height"])
        if image_path is not None:
            record = replace(record, path=Path(image_path(record.file_name)))
            problem = _check_image_file(record)
            if problem is not None:
                skipped.add(image_id)
                policy.reject(f"{record_name} ({record.path})", *problem)
                continue
        images[image_id] = record
    return images, skipped


def _is_valid_image_record(raw: Any) -> bool:
    if not isinstance(raw, dict) or not _is_int(raw.get("id")):
        return False
    if not isinstance(raw.get("file_name"), str) or not raw["file_name"]:
        return False
    return all(_is_int(raw.get(key)) and raw[key] > 0 for key in ("width", "height"))


def _check_image_file(record: ImageRecord) -> tuple[str, str] | None:
    assert record.path is not None
    if not record.path.is_file():
        return "image_file_missing", "image file not found"
    try:
        with Image.open(record.path) as image:
            size = image.size
            orientation = image.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except (UnidentifiedImageError, OSError) as error:
        return "image_unreadable", f"cannot open the image: {error}"
    if orientation in EXIF_QUARTER_TURNS:
        size = (size[1], size[0])  # the image is used upright, so compare the transposed size
    if size != (record.width, record.height):
        return (
            "image_size_mismatch",
            f"file is {size[0]}x{size[1]} but the record says {record.width}x{record.height} (width x height)",
        )
    return None


def _read_annotations(
    raw_annotations: list,
    images: dict[int, ImageRecord],
    skipped_image_ids: set[int],
    label_of: dict[int, int],
    policy: _RecordPolicy,
) -> dict[int, list[AnnotationRecord]]:
    annotations: dict[int, list[AnnotationRecord]] = {}
    for position, raw in enumerate(raw_annotations):
        annotation_id = raw.get("id") if isinstance(raw, dict) else None
        record_name = f"annotation id {annotation_id}" if _is_int(annotation_id) else f"annotations[{position}]"
        if isinstance(raw, dict) and _is_int(raw.get("image_id")) and raw["image_id"] in skipped_image_ids:
            policy.report.dropped[ANNOTATION_OF_SKIPPED_IMAGE] += 1
            continue
        result = _check_annotation(raw, images, label_of)
        if isinstance(result, tuple):
            policy.reject(record_name, *result)
            continue
        annotations.setdefault(result.image_id, []).append(result)
    return annotations


def _check_annotation(
    raw: Any, images: dict[int, ImageRecord], label_of: dict[int, int]
) -> AnnotationRecord | tuple[str, str]:
    """Return the checked record, or (reason, detail) for the first problem found."""
    if not isinstance(raw, dict) or not all(_is_int(raw.get(key)) for key in ("id", "image_id", "category_id")):
        return "annotation_malformed", f"invalid annotation record {_shorten(raw)}"
    bbox = raw.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4 or not all(_is_finite_number(value) for value in bbox):
        return "annotation_malformed", f"invalid bbox {bbox!r}"

    image = images.get(raw["image_id"])
    if image is None:
        return "image_id_unknown", f"image_id {raw['image_id']} is not in the file's images"
    if raw["category_id"] not in label_of:
        return "category_id_unknown", f"category_id {raw['category_id']} is not in the file's categories"

    x1, y1, x2, y2 = clip_box(bbox, image.width, image.height)
    if x2 <= x1 or y2 <= y1:
        return "bbox_zero_area", f"bbox {bbox} has no area inside the {image.width}x{image.height} image"
    segmentation = raw.get("segmentation")
    problem = check_segmentation(segmentation, image.height, image.width)
    if problem is not None:
        return problem

    area = raw.get("area")
    attribute_ids = raw.get("attribute_ids")
    return AnnotationRecord(
        id=raw["id"],
        image_id=raw["image_id"],
        category_id=raw["category_id"],
        label=label_of[raw["category_id"]],
        bbox=tuple(float(value) for value in bbox),
        area=float(area) if _is_finite_number(area) and area > 0 else None,
        iscrowd=bool(raw.get("iscrowd", 0)),
        segmentation=_single_rle(segmentation, image.height, image.width),
        attribute_ids=tuple(attribute_ids) if isinstance(attribute_ids, list) else (),
    )


def check_segmentation(segmentation: Any, height: int, width: int) -> tuple[str, str] | None:
    """Return (reason, detail) when `segmentation` cannot be decoded at height x width, else None.

    Accepted forms: a list of polygons [x1, y1, x2, y2, ...], one RLE dict {size, counts} with counts as a
    list (uncompressed) or a string (compressed), or a list of such RLE dicts.
    """
    if isinstance(segmentation, dict):
        return _check_rle(segmentation, height, width)
    if not isinstance(segmentation, list) or not segmentation:
        return "segmentation_invalid", f"segmentation must be a non-empty list or an RLE dict, got {_shorten(segmentation)}"
    if all(isinstance(part, dict) for part in segmentation):
        for part in segmentation:
            problem = _check_rle(part, height, width)
            if problem is not None:
                return problem
        return None
    for index, polygon in enumerate(segmentation):
        if not isinstance(polygon, list) or not all(_is_finite_number(value) for value in polygon):
            return "segmentation_invalid", f"polygon {index} is not a list of numbers"
        if len(polygon) % 2:
            return "segmentation_invalid", f"polygon {index} has an odd number of coordinates ({len(polygon)})"
        if len(polygon) < 6:
            return "polygon_under_3_points", f"polygon {index} has {len(polygon) // 2} points, at least 3 are needed"
    return None


def _check_rle(rle: dict, height: int, width: int) -> tuple[str, str] | None:
    size, counts = rle.get("size"), rle.get("counts")
    if not isinstance(size, list) or len(size) != 2 or not all(_is_int(value) for value in size):
        return "segmentation_invalid", f"RLE size must be [height, width], got {size!r}"
    if size != [height, width]:
        return "rle_size_mismatch", f"RLE size {size} differs from the image's [height, width] [{height}, {width}]"
    if isinstance(counts, list):
        if not all(_is_int(value) and value >= 0 for value in counts) or sum(counts) != height * width:
            return "segmentation_invalid", f"uncompressed RLE counts must be non-negative and sum to {height * width}"
        return None
    if not isinstance(counts, str) or not counts:
        return "segmentation_invalid", "RLE counts must be a non-empty string or a list of integers"
    try:
        mask_utils.decode({"size": size, "counts": counts.encode("ascii")})
    except (ValueError, UnicodeEncodeError) as error:
        return "segmentation_invalid", f"compressed RLE counts cannot be decoded: {error}"
    return None


def _single_rle(segmentation: list | dict, height: int, width: int) -> list | dict:
    """Merge a list of RLE dicts into one compressed RLE, which pycocotools' COCOeval accepts; keep other forms."""
    if isinstance(segmentation, list) and segmentation and all(isinstance(part, dict) for part in segmentation):
        rle = segmentation_to_rle(segmentation, height, width)
        return {"size": [height, width], "counts": rle["counts"].decode("ascii")}
    return segmentation


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _shorten(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------------------------
# Masks and boxes


def clip_box(bbox: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    """Convert a COCO box [x, y, w, h] to x1, y1, x2, y2 clipped to the image."""
    x, y, w, h = (float(value) for value in bbox)
    return (
        min(max(x, 0.0), width),
        min(max(y, 0.0), height),
        min(max(x + w, 0.0), width),
        min(max(y + h, 0.0), height),
    )


def segmentation_to_rle(segmentation: list | dict, height: int, width: int) -> dict:
    """Return one compressed RLE (bytes counts) for polygons, an RLE dict, or a list of RLE dicts."""
    if isinstance(segmentation, dict):
        parts = [segmentation]
    elif segmentation and all(isinstance(part, dict) for part in segmentation):
        parts = list(segmentation)
    else:
        return mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    rles = []
    for part in parts:
        if isinstance(part["counts"], list):
            rles.append(mask_utils.frPyObjects(part, height, width))
        else:
            counts = part["counts"]
            rles.append({"size": list(part["size"]), "counts": counts.encode("ascii") if isinstance(counts, str) else counts})
    return rles[0] if len(rles) == 1 else mask_utils.merge(rles)


def decode_mask(segmentation: list | dict, height: int, width: int) -> np.ndarray:
    """Return the (height, width) uint8 mask of `segmentation`, 1 inside the object."""
    return mask_utils.decode(segmentation_to_rle(segmentation, height, width))


def encode_mask(mask: np.ndarray) -> dict:
    """Return the compressed RLE of a binary (h, w) mask with a JSON-ready string `counts`."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(value) for value in rle["size"]], "counts": rle["counts"].decode("ascii")}


# ---------------------------------------------------------------------------------------------------------------
# Results and evaluation


def detections_to_results(
    image_id: int,
    boxes: np.ndarray,
    scores: np.ndarray,
    labels: np.ndarray,
    masks: np.ndarray | None,
    category_of: dict[int, int],
    mask_threshold: float = 0.5,
) -> list[dict]:
    """Convert one image's detections to COCO result records with the file's category ids.

    `boxes` are (n, 4) x1, y1, x2, y2 pixels, `labels` contiguous labels 1..K and `masks` (n, h, w) or
    (n, 1, h, w) probabilities (binarised at `mask_threshold`) or None for box-only results.
    """
    results = []
    if masks is not None and masks.ndim == 4:
        masks = masks[:, 0]
    for index in range(len(scores)):
        label = int(labels[index])
        if label not in category_of:
            raise ValueError(f"prediction label {label} has no category; expected one of 1..{len(category_of)}")
        x1, y1, x2, y2 = (float(value) for value in boxes[index])
        record = {
            "image_id": int(image_id),
            "category_id": category_of[label],
            "bbox": [x1, y1, x2 - x1, y2 - y1],
            "score": float(scores[index]),
        }
        if masks is not None:
            record["segmentation"] = encode_mask(masks[index] >= mask_threshold)
        results.append(record)
    return results


def evaluate_results(ground_truth: COCO, results: list[dict], iou_types: Iterable[str] = IOU_TYPES) -> dict[str, float]:
    """Run COCOeval for each IoU type and return `<iou_type>/AP`, `/AP50` and `/AP75`.

    COCOeval reports -1 for a value with no ground truth to score against; that value is passed through.
    """
    metrics: dict[str, float] = {}
    for iou_type in iou_types:
        if iou_type not in IOU_TYPES:
            raise ValueError(f"unknown IoU type {iou_type!r}; use one of {', '.join(IOU_TYPES)}")
        keys = ("image_id", "category_id", "score", "bbox" if iou_type == "bbox" else "segmentation")
        typed_results = [{key: result[key] for key in keys} for result in results]
        detections = _load_results(ground_truth, typed_results)
        evaluator = COCOeval(ground_truth, detections, iouType=iou_type)
        with _captured_stdout() as output:
            evaluator.evaluate()
            evaluator.accumulate()
            evaluator.summarize()
        _logger.debug("COCOeval %s:\n%s", iou_type, output.getvalue())
        for name, value in zip(COCO_AP_NAMES, evaluator.stats):
            metrics[f"{iou_type}/{name}"] = float(value)
    return metrics


def _load_results(ground_truth: COCO, results: list[dict]) -> COCO:
    if results:
        with _captured_stdout():
            return ground_truth.loadRes(results)
    # COCO.loadRes cannot take an empty list, so build the empty result set directly.
    detections = COCO()
    detections.dataset = {
        "images": list(ground_truth.dataset["images"]),
        "categories": list(ground_truth.dataset["categories"]),
        "annotations": [],
    }
    with _captured_stdout():
        detections.createIndex()
    return detections


@contextlib.contextmanager
def _captured_stdout():
    """Capture what pycocotools prints, so that messages go through logging only."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        yield buffer
