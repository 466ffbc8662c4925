"""Painting a sketch: textile patterns, supersampled rasterising and box-filtering to output size."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .figure import SUPERSAMPLE, Body, Fill, Sketch


@lru_cache(maxsize=1)
def _fabric_noise() -> np.ndarray:
    return np.random.default_rng(7).normal(0.0, 1.0, size=(256, 256)).astype(np.float32)


def _value_noise(grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample smooth noise in [0, 1] from a periodic grid of random values at float coordinates."""
    size = grid.shape[0]
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx = x - x0
    fy = y - y0
    fx = fx * fx * (3 - 2 * fx)
    fy = fy * fy * (3 - 2 * fy)
    x0 %= size
    y0 %= size
    x1 = (x0 + 1) % size
    y1 = (y0 + 1) % size
    a, b, c, d = grid[y0, x0], grid[y0, x1], grid[y1, x0], grid[y1, x1]
    return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy


def _pattern_colors(fill: Fill, x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Return RGB colours of a fill at points given in head units (x, y) and in pixels (px, py)."""
    colors = fill.colors + [fill.colors[0]] * (3 - len(fill.colors))
    c0, c1, c2 = (np.asarray(c, np.float32) for c in colors[:3])
    if fill.angle:
        cos_a, sin_a = math.cos(fill.angle), math.sin(fill.angle)
        x, y = x * cos_a + y * sin_a, -x * sin_a + y * cos_a
    u = x / fill.period
    v = y / fill.period
    out = np.broadcast_to(c0, (x.size, 3)).copy()
    if fill.pattern == "stripe":
        out[(u % 1.0) < 0.45] = c1
    elif fill.pattern == "check":
        in_u = (u % 1.0) < 0.5
        in_v = (v % 1.0) < 0.5
        out[in_u ^ in_v] = (c0 + c1) / 2
        out[in_u & in_v] = c1
        if fill.seed % 2:
            out[((u + 0.25) % 1.0 < 0.07) | ((v + 0.25) % 1.0 < 0.07)] = c2
    elif fill.pattern == "dot":
        row = np.floor(v)
        du = (u + 0.5 * (row % 2)) % 1.0 - 0.5
        dv = v % 1.0 - 0.5
        out[du * du + dv * dv < 0.3**2] = c1
    elif fill.pattern in ("floral", "camouflage"):
        grids = np.random.default_rng(fill.seed).random((2, 16, 16))
        first = (
            _value_noise(grids[0], u + 64, v + 64) * 0.7
            + _value_noise(grids[0], 2.3 * u + 64, 2.3 * v + 64) * 0.3
        )
        second = _value_noise(grids[1], u + 64, v + 64)
        if fill.pattern == "floral":
            out[second > 0.68] = c2 * 0.8
            out[first > 0.6] = c1
            out[first > 0.75] = np.clip(c1 * 0.6 + c2 * 0.4, 0, 1)
        else:
            out[first > 0.55] = c1
            out[second > 0.62] = c2
    if fill.pleats:
        out *= (1.0 - fill.pleats * (0.5 + 0.5 * np.cos(2 * math.pi * x / 0.22)))[:, None]
    if fill.texture:
        noise = _fabric_noise()
        out += fill.texture * noise[(py + fill.seed) % 256, (px + fill.seed // 256) % 256][:, None]
    return out


@dataclass
class FigureLayers:
    """A figure box-filtered to output size: colour premultiplied by coverage, and part ids."""

    color: np.ndarray  # float32 (h, w, 3)
    coverage: np.ndarray  # float32 (h, w), fraction of supersamples inside the figure
    parts: np.ndarray  # int (h, w), 1-based index into Sketch.parts, 0 outside the figure


def _paint_figure(sketch: Sketch, body: Body, width: int, height: int, light: float) -> FigureLayers:
    big_w, big_h = width * SUPERSAMPLE, height * SUPERSAMPLE
    ids = Image.new("L", (big_w, big_h), 0)
    draw = ImageDraw.Draw(ids)
    for index, part in enumerate(sketch.parts, start=1):
        for polygon in part.polygons:
            if len(polygon) >= 3:
                draw.polygon(polygon, fill=index)
    partmap = np.asarray(ids)

    flat = partmap.ravel()
    order = np.argsort(flat, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=len(sketch.parts) + 1))])
    rgb = np.zeros((flat.size, 3), np.float32)
    for index, part in enumerate(sketch.parts, start=1):
        pixels = order[bounds[index] : bounds[index + 1]]
        if pixels.size == 0:
            continue
        py, px = np.divmod(pixels, big_w)
        x = (px - body.cx) / body.unit
        y = (py - body.top) / body.unit
        rgb[pixels] = _pattern_colors(part.fill, x.astype(np.float32), y.astype(np.float32), px, py)
    rgb = rgb.reshape(big_h, big_w, 3)

    # Rim darkening, dark seams between parts and a side light give the flat shapes some depth.
    inside = partmap > 0
    silhouette = Image.fromarray(inside.astype(np.uint8) * 255, "L").filter(
        ImageFilter.GaussianBlur(0.06 * body.unit)
    )
    depth = np.asarray(silhouette, dtype=np.float32) / 255.0
    shade = 0.62 + 0.38 * np.clip((depth - 0.5) * 2.2, 0.0, 1.0)
    seams = np.zeros_like(inside)
    seams[:, 1:] |= partmap[:, 1:] != partmap[:, :-1]
    seams[:, :-1] |= partmap[:, 1:] != partmap[:, :-1]
    seams[1:, :] |= partmap[1:, :] != partmap[:-1, :]
    seams[:-1, :] |= partmap[1:, :] != partmap[:-1, :]
    shade[seams & inside] *= 0.6
    columns = np.arange(big_w, dtype=np.float32)
    shade *= 1.0 + light * np.clip((columns - body.cx) / (1.5 * body.unit), -1.0, 1.0)[None, :]
    rgb = np.clip(rgb * shade[:, :, None], 0.0, 1.0) * inside[:, :, None]

    # Image.reduce averages each SUPERSAMPLE x SUPERSAMPLE block, as a box filter.
    color_image = Image.fromarray((rgb * 255).round().astype(np.uint8), "RGB").reduce(SUPERSAMPLE)
    coverage_image = Image.fromarray(inside.astype(np.uint8) * 255, "L").reduce(SUPERSAMPLE)
    color = np.asarray(color_image, dtype=np.float32) / 255.0
    coverage = np.asarray(coverage_image, dtype=np.float32) / 255.0
    blocks = (
        partmap.reshape(height, SUPERSAMPLE, width, SUPERSAMPLE)
        .transpose(0, 2, 1, 3)
        .reshape(height, width, -1)
    )
    # Each output pixel takes the part that covers most of its supersamples.
    parts = blocks[:, :, 0].astype(np.int32)
    mixed = (blocks != blocks[:, :, :1]).any(axis=2)
    candidates = blocks[mixed]
    votes = np.stack(
        [(candidates == candidates[:, [k]]).sum(axis=1) for k in range(candidates.shape[1])], axis=1
    )
    votes[candidates == 0] = -1
    parts[mixed] = candidates[np.arange(len(candidates)), votes.argmax(axis=1)]
    parts[coverage < 0.5] = 0
    return FigureLayers(color, coverage, parts)
