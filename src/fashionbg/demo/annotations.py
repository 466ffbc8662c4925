"""Instance annotations: mask outlines as polygons and COCO documents with categories and attributes."""

from __future__ import annotations

from typing import Any

import numpy as np
from skimage.measure import find_contours, points_in_poly

from .samples import Sample
from .styles import ATTRIBUTES, CATEGORIES

MIN_INSTANCE_AREA = 16  # pixels, because smaller visible garment parts get no annotation


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _drop_collinear_points(ring: np.ndarray) -> np.ndarray:
    before = np.roll(ring, 1, axis=0)
    after = np.roll(ring, -1, axis=0)
    cross = (ring[:, 0] - before[:, 0]) * (after[:, 1] - ring[:, 1]) - (ring[:, 1] - before[:, 1]) * (
        after[:, 0] - ring[:, 0]
    )
    return ring[np.abs(cross) > 1e-9]


def mask_polygons(mask: np.ndarray) -> list[list[float]]:
    """Trace a binary mask as COCO polygons [x1, y1, x2, y2, ...], one per outer contour.

    Holes are joined to their outer ring by a cut that runs there and back, which the even-odd
    polygon fill of pycocotools leaves empty, so the polygons keep the holes.
    """
    padded = np.pad(mask.astype(np.uint8), 1)
    rings = []
    for contour in find_contours(padded, 0.5):
        # Contour points lie between pixel centres; pixel (i, j) covers [j, j + 1) x [i, i + 1).
        ring = _drop_collinear_points(contour[:-1, ::-1] - 1.0 + 0.5)
        if len(ring) >= 3:
            rings.append(ring)
    if not rings:
        return []
    areas = [_signed_area(ring) for ring in rings]
    outer_sign = np.sign(areas[int(np.argmax(np.abs(areas)))])
    # Smallest outer rings first, so that a hole joins the innermost ring around it.
    by_size = sorted(range(len(rings)), key=lambda k: abs(areas[k]))
    outers = [rings[k] for k in by_size if np.sign(areas[k]) == outer_sign]
    holes = [rings[k] for k in by_size if np.sign(areas[k]) != outer_sign]
    for hole in holes:
        for index, outer in enumerate(outers):
            if points_in_poly(hole[:1], outer)[0]:
                distances = ((outer[:, None, :] - hole[None, :, :]) ** 2).sum(axis=2)
                i, j = np.unravel_index(int(distances.argmin()), distances.shape)
                outers[index] = np.concatenate([outer[: i + 1], hole[j:], hole[: j + 1], outer[i:]])
                break
    return [[round(float(v), 2) for v in ring.ravel()] for ring in outers]


def _annotations(sample: Sample, image_id: int) -> list[dict[str, Any]]:
    annotations = []
    for index, (garment, visible) in enumerate(zip(sample.garments, sample.instance_masks)):
        area = int(visible.sum())
        if area < MIN_INSTANCE_AREA:
            continue
        polygons = mask_polygons(visible)
        if not polygons:
            continue
        ys, xs = np.nonzero(visible)
        annotations.append(
            {
                "id": image_id * 100 + index,
                "image_id": image_id,
                "category_id": garment.category,
                "segmentation": polygons,
                "bbox": [
                    int(xs.min()),
                    int(ys.min()),
                    int(xs.max() - xs.min() + 1),
                    int(ys.max() - ys.min() + 1),
                ],
                "area": area,
                "iscrowd": 0,
                "attribute_ids": list(garment.attributes),
            }
        )
    return annotations


def _coco_document(images: list[dict], annotations: list[dict]) -> dict[str, Any]:
    return {
        "info": {
            "description": "Synthetic fashion images with garment instance masks (fashionbg demo)",
            "version": "1.0",
            "year": 2023,
            "contributor": "fashionbg",
            "date_created": "",
        },
        "licenses": [
            {
                "id": 1,
                "name": "CC0 1.0 (synthetic data)",
                "url": "https://creativecommons.org/publicdomain/zero/1.0/",
            }
        ],
        "images": images,
        "annotations": annotations,
        "categories": [
            {
                "id": index,
                "name": name,
                "supercategory": supercategory,
                "level": 2,
                "taxonomy_id": f"demo-{index}",
            }
            for index, (name, supercategory) in enumerate(CATEGORIES)
        ],
        "attributes": [
            {"id": index, "name": name, "supercategory": supercategory, "level": 1}
            for index, (name, supercategory) in enumerate(ATTRIBUTES)
        ],
    }
