"""Bad and unusual input files, generated here: what load_rgb and prepare make of each, under both policies."""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from concurrent_commands import finish_command, start_command
from conftest import make_dvc_repo, photo, tiny_params, write_fashionstyle14, write_photo_crops
from fashionbg import layout, prepare
from fashionbg.errors import BadImageError, DataError
from fashionbg.images import load_rgb

DATASET = "mixed"
EXIF_ORIENTATION = 0x0112


# ----------------------------------------------------------------------------------------------
# File writers


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, bit_depth: int, color_type: int, rows) -> bytes:
    """Encode a PNG from raw scanlines by hand, for sample formats and sizes Pillow does not write."""
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(b"\0" + row) for row in rows) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


@lru_cache(maxsize=1)
def bomb_png() -> bytes:
    """Return a 1-bit black PNG of 14000x13000 pixels, over twice Pillow's default limit, in 22 kB."""
    width, height = 14000, 13000
    assert width * height > 2 * Image.MAX_IMAGE_PIXELS
    row = bytes(width // 8)
    return png_bytes(width, height, 1, 0, (row for _ in range(height)))


def pattern(width: int = 12, height: int = 8) -> np.ndarray:
    """Return an RGB array whose every pixel differs, so that any flip or rotation changes it."""
    values = np.arange(width * height * 3, dtype=np.int64).reshape(height, width, 3)
    return (values * 7 % 256).astype(np.uint8)


def save_with_orientation(path: Path, upright: np.ndarray, orientation: int) -> None:
    """Store `upright` as a camera would under EXIF `orientation` 6 or 8, with the tag set."""
    stored = np.rot90(upright, k=1 if orientation == 6 else -1)  # 6: display rotates 90° clockwise
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    Image.fromarray(np.ascontiguousarray(stored)).save(path, exif=exif.tobytes())


def write_truncated_jpeg(path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(pattern(64, 64)).save(buffer, "JPEG", quality=90)
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])


def write_cmyk_jpeg(path: Path) -> None:
    cmyk = np.concatenate([pattern(16, 16), np.full((16, 16, 1), 40, np.uint8)], axis=-1)
    Image.fromarray(cmyk, mode="CMYK").save(path, quality=95)


def write_palette_png(path: Path, transparent_index: int | None) -> None:
    image = Image.fromarray(np.tile(np.arange(4, dtype=np.uint8), (16, 4)), mode="P")
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    if transparent_index is None:
        image.save(path)
    else:
        image.save(path, transparency=transparent_index)


def write_gray16_png(path: Path) -> None:
    Image.fromarray(np.tile(np.array([0, 255, 32768, 65535], dtype=np.uint16), (16, 4))).save(path)


def write_rgb16_png(path: Path) -> None:
    """A 16-bit-per-channel RGB PNG: columns (0, 32768, 65535) per channel, big-endian samples."""
    samples = np.tile(np.array([[0, 0, 0], [32768, 32768, 32768], [65535, 65535, 65535]], dtype=">u2"), (8, 1))
    row = samples.tobytes()  # 24 pixels wide
    path.write_bytes(png_bytes(24, 16, 16, 2, [row] * 16))


def write_rgba_png(path: Path) -> None:
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[:, :8] = (200, 30, 60, 255)  # opaque left half
    rgba[:, 8:] = (0, 0, 0, 0)  # transparent right half
    rgba[0, :] = (0, 0, 0, 128)  # half-transparent black top row
    Image.fromarray(rgba, mode="RGBA").save(path)


def write_la_png(path: Path) -> None:
    la = np.zeros((16, 16, 2), np.uint8)
    la[:, :8] = (90, 255)
    Image.fromarray(la, mode="LA").save(path)


def write_colour_key_png(path: Path) -> None:
    rgb = np.full((16, 16, 3), (10, 20, 30), np.uint8)
    rgb[:, 8:] = (250, 100, 5)
    Image.fromarray(rgb).save(path, transparency=(10, 20, 30))


def write_gray_jpeg(path: Path) -> None:
    Image.fromarray(pattern(16, 16)[..., 0], mode="L").save(path, quality=95)


def write_plain_jpeg(path: Path, size: tuple[int, int] = (48, 40)) -> None:
    Image.fromarray(pattern(*size)).save(path, quality=90)


def write_exif_jpeg(orientation: int):
    def write(path: Path) -> None:
        save_with_orientation(path, pattern(40, 24), orientation)

    return write


# Files that prepare rejects: class folder, file name, writer, reason (a regular expression).
REJECTED = {
    "truncated_jpeg": ("astronaut", "truncated.jpg", write_truncated_jpeg,
                       r"cannot decode image \(image file is truncated"),
    "zero_byte": ("astronaut", "empty.jpg", lambda path: path.write_bytes(b""), r"empty file \(0 bytes\)"),
    "text_named_jpg": ("chelsea", "notes.jpg", lambda path: path.write_text("shot list: red coat, blue bag\n"),
                       r"not an image file \(Pillow cannot identify it\)"),
    "non_image_name": ("chelsea", "notes.txt", lambda path: path.write_text("photographer: A. Example\n"),
                       r"not an image file name \(extension '\.txt'\)"),
    "decompression_bomb": ("coffee", "huge.png", lambda path: path.write_bytes(bomb_png()),
                           r"image too large \(Image size \(182000000 pixels\) exceeds limit"),
    "one_pixel": ("coffee", "dot.png", lambda path: Image.new("RGB", (1, 1), "red").save(path),
                  r"image too small \(1x1, minimum side 8 pixels\)"),
    "elongated": ("rocket", "strip.png", lambda path: Image.new("RGB", (400, 10), "blue").save(path),
                  r"image too elongated \(400x10, maximum aspect ratio 20\)"),
}

# Valid files in unusual formats that prepare converts and keeps under both policies:
# class folder, file name, writer, upright size.
CONVERTED = {
    "cmyk_jpeg": ("astronaut", "cmyk.jpg", write_cmyk_jpeg, (16, 16)),
    "grayscale_jpeg": ("astronaut", "gray.jpg", write_gray_jpeg, (16, 16)),
    "palette_png": ("chelsea", "palette.png", lambda path: write_palette_png(path, None), (16, 16)),
    "palette_transparent_png": ("chelsea", "palette-alpha.png", lambda path: write_palette_png(path, 3), (16, 16)),
    "gray16_png": ("coffee", "gray16.png", write_gray16_png, (16, 16)),
    "rgb16_png": ("coffee", "rgb16.png", write_rgb16_png, (24, 16)),
    "rgba_png": ("rocket", "rgba.png", write_rgba_png, (16, 16)),
    "la_png": ("rocket", "la.png", write_la_png, (16, 16)),
    "colour_key_png": ("rocket", "colour-key.png", write_colour_key_png, (16, 16)),
    "exif_6_jpeg": ("astronaut", "exif6.jpg", write_exif_jpeg(6), (40, 24)),
    "exif_8_jpeg": ("chelsea", "exif8.jpg", write_exif_jpeg(8), (40, 24)),
    "unicode_space_name": ("coffee", "Käse Bild, ü 1.jpg", write_plain_jpeg, (48, 40)),
    "twin_jpg": ("rocket", "twin.jpg", write_plain_jpeg, (48, 40)),
    "twin_png": ("rocket", "twin.png", lambda path: Image.fromarray(pattern(30, 20)).save(path), (30, 20)),
}


def write_kind(root: Path, table: dict, kind: str) -> str:
    folder, name, writer, _ = table[kind]
    (root / folder).mkdir(parents=True, exist_ok=True)
    writer(root / folder / name)
    return f"{folder}/{name}"


def mixed_params(policy: str = "skip", **changes) -> dict:
    return tiny_params(**{"data.dataset": DATASET, "data.on_bad_image": policy, **changes})


def read_skipped() -> dict:
    return json.loads(prepare.SKIPPED_REPORT.read_text(encoding="utf-8"))


def manifest_paths() -> list[str]:
    return [row["path"] for row in prepare.read_manifest()]


# ----------------------------------------------------------------------------------------------
# Conversion, checked pixel by pixel


@pytest.mark.parametrize("orientation", [6, 8])
def test_load_rgb_exif_orientation_upright(tmp_path, orientation):
    upright = pattern()
    save_with_orientation(tmp_path / "photo.png", upright, orientation)
    assert Image.open(tmp_path / "photo.png").getexif()[EXIF_ORIENTATION] == orientation
    assert np.array_equal(np.asarray(load_rgb(tmp_path / "photo.png")), upright)


def test_load_rgb_cmyk_matches_pillow_conversion(tmp_path):
    write_cmyk_jpeg(tmp_path / "cmyk.jpg")
    with Image.open(tmp_path / "cmyk.jpg") as decoded:
        assert decoded.mode == "CMYK"
        expected = np.asarray(decoded.convert("RGB"))
    assert np.array_equal(np.asarray(load_rgb(tmp_path / "cmyk.jpg")), expected)


def test_load_rgb_cmyk_primaries(tmp_path):
    inks = np.array([[[255, 0, 0, 0], [0, 255, 0, 0], [0, 0, 255, 0], [0, 0, 0, 255]]], np.uint8)
    Image.fromarray(np.repeat(np.repeat(inks, 8, axis=0), 2, axis=1), mode="CMYK").save(tmp_path / "inks.tif")
    rgb = np.asarray(load_rgb(tmp_path / "inks.tif"))
    assert rgb[0, ::2].tolist() == [[0, 255, 255], [255, 0, 255], [255, 255, 0], [0, 0, 0]]


def test_load_rgb_gray16_scales_to_8_bit(tmp_path):
    write_gray16_png(tmp_path / "gray16.png")
    assert Image.open(tmp_path / "gray16.png").mode == "I;16"
    rgb = np.asarray(load_rgb(tmp_path / "gray16.png"))
    assert rgb[0, :4].tolist() == [[0, 0, 0], [1, 1, 1], [128, 128, 128], [255, 255, 255]]


def test_load_rgb_dark_gray16_stays_dark(tmp_path):
    # The scale follows the mode, never the content: 16-bit values up to 255 are near black.
    Image.fromarray(np.tile(np.array([0, 128, 255], dtype=np.uint16), (16, 4))).save(tmp_path / "dark16.png")
    rgb = np.asarray(load_rgb(tmp_path / "dark16.png"))
    assert rgb[0, :3, 0].tolist() == [0, 0, 1]


def test_load_rgb_rgb16_scales_to_8_bit(tmp_path):
    write_rgb16_png(tmp_path / "rgb16.png")
    rgb = np.asarray(load_rgb(tmp_path / "rgb16.png"))
    assert rgb[0, :3].tolist() == [[0, 0, 0], [128, 128, 128], [255, 255, 255]]


def test_load_rgb_rgba_composites_on_white(tmp_path):
    write_rgba_png(tmp_path / "rgba.png")
    rgb = np.asarray(load_rgb(tmp_path / "rgba.png"))
    assert rgb[5, 0].tolist() == [200, 30, 60]
    assert rgb[5, 15].tolist() == [255, 255, 255]
    assert rgb[0, 0].tolist() == [127, 127, 127]  # black at alpha 128 over white


def test_load_rgb_la_composites_on_white(tmp_path):
    write_la_png(tmp_path / "la.png")
    rgb = np.asarray(load_rgb(tmp_path / "la.png"))
    assert rgb[3, 0].tolist() == [90, 90, 90]
    assert rgb[3, 15].tolist() == [255, 255, 255]


def test_load_rgb_palette_colours(tmp_path):
    write_palette_png(tmp_path / "palette.png", None)
    rgb = np.asarray(load_rgb(tmp_path / "palette.png"))
    assert rgb[0, :4].tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]


def test_load_rgb_palette_transparency_white(tmp_path):
    write_palette_png(tmp_path / "palette.png", 3)
    assert Image.open(tmp_path / "palette.png").info["transparency"] == 3
    rgb = np.asarray(load_rgb(tmp_path / "palette.png"))
    assert rgb[0, :4].tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]


def test_load_rgb_colour_key_white(tmp_path):
    write_colour_key_png(tmp_path / "key.png")
    rgb = np.asarray(load_rgb(tmp_path / "key.png"))
    assert rgb[0, 0].tolist() == [255, 255, 255]
    assert rgb[0, 15].tolist() == [250, 100, 5]


def test_load_rgb_grayscale_equal_channels(tmp_path):
    gray = pattern(16, 16)[..., 1]
    Image.fromarray(gray, mode="L").save(tmp_path / "gray.png")
    rgb = np.asarray(load_rgb(tmp_path / "gray.png"))
    assert np.array_equal(rgb, np.repeat(gray[..., None], 3, axis=2))


@pytest.mark.parametrize(("size", "accepted"), [((8, 8), True), ((7, 40), False), ((160, 8), True), ((168, 8), False)])
def test_load_rgb_size_limits(tmp_path, size, accepted):
    Image.new("RGB", size, "gray").save(tmp_path / "sized.png")
    if accepted:
        assert load_rgb(tmp_path / "sized.png").size == size
    else:
        with pytest.raises(BadImageError, match=r"too (small|elongated)"):
            load_rgb(tmp_path / "sized.png")


def test_load_rgb_over_pixel_limit_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    Image.new("RGB", (40, 40)).save(tmp_path / "big.png")  # 1600 pixels: Pillow only warns
    with pytest.warns(Image.DecompressionBombWarning):
        with pytest.raises(BadImageError, match=r"image too large \(40x40 = 1600 pixels, over .* limit of 1000\)"):
            load_rgb(tmp_path / "big.png")


def test_load_rgb_over_twice_limit_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    Image.new("RGB", (50, 50)).save(tmp_path / "bigger.png")  # 2500 pixels: Pillow raises
    with pytest.raises(BadImageError, match=r"image too large \(Image size \(2500 pixels\) exceeds limit of 2000"):
        load_rgb(tmp_path / "bigger.png")


def test_load_rgb_under_pixel_limit_accepted(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    Image.new("RGB", (30, 30)).save(tmp_path / "small.png")
    assert load_rgb(tmp_path / "small.png").size == (30, 30)


def test_load_rgb_missing_file_named(tmp_path):
    with pytest.raises(BadImageError, match=r"absent\.jpg: file not found"):
        load_rgb(tmp_path / "absent.jpg")


# ----------------------------------------------------------------------------------------------
# prepare on an ImageFolder tree: good photographs plus one file of each kind


@pytest.mark.parametrize("kind", sorted(REJECTED))
def test_rejected_file_skipped_with_reason(workdir, kind):
    root = workdir / "data/raw" / DATASET
    good = write_photo_crops(root, per_class=3)
    relpath = write_kind(root, REJECTED, kind)
    prepare.main(mixed_params())
    report = read_skipped()
    assert [entry["path"] for entry in report["files"]] == [relpath]
    assert report["count"] == 1
    assert re.match(REJECTED[kind][3], report["files"][0]["reason"])
    assert sorted(manifest_paths()) == sorted(good)


@pytest.mark.parametrize("kind", sorted(REJECTED))
def test_rejected_file_fails_naming_file_and_fix(workdir, kind):
    root = workdir / "data/raw" / DATASET
    write_photo_crops(root, per_class=3)
    relpath = write_kind(root, REJECTED, kind)
    with pytest.raises(DataError) as raised:
        prepare.main(mixed_params("fail"))
    message = str(raised.value)
    assert message.startswith(f"data/raw/{DATASET}/{relpath}: ")
    assert re.search(REJECTED[kind][3], message)
    assert "set data.on_bad_image: skip" in message
    assert not layout.MANIFEST.exists()


@pytest.mark.parametrize("policy", ["fail", "skip"])
@pytest.mark.parametrize("kind", sorted(CONVERTED))
def test_unusual_image_converted_and_kept(workdir, kind, policy):
    root = workdir / "data/raw" / DATASET
    write_photo_crops(root, per_class=3)
    relpath = write_kind(root, CONVERTED, kind)
    prepare.main(mixed_params(policy))
    rows = {row["path"]: row for row in prepare.read_manifest()}
    width, height = CONVERTED[kind][3]
    assert (int(rows[relpath]["width"]), int(rows[relpath]["height"])) == (width, height)
    assert read_skipped()["count"] == 0


def test_twins_both_kept_with_distinct_outputs(workdir):
    root = workdir / "data/raw" / DATASET
    write_photo_crops(root, per_class=3)
    write_kind(root, CONVERTED, "twin_jpg")
    write_kind(root, CONVERTED, "twin_png")
    prepare.main(mixed_params())
    assert {"rocket/twin.jpg", "rocket/twin.png"} <= set(manifest_paths())
    assert layout.rembg_image_path("rocket/twin.jpg") != layout.rembg_image_path("rocket/twin.png")


@pytest.mark.parametrize("policy", ["fail", "skip"])
def test_empty_class_folder(workdir, policy):
    root = workdir / "data/raw" / DATASET
    write_photo_crops(root, per_class=3)
    (root / "empty-style").mkdir()
    if policy == "fail":
        with pytest.raises(DataError, match=rf"data/raw/{DATASET}/empty-style/: empty class folder.*on_bad_image: skip"):
            prepare.main(mixed_params(policy))
        return
    prepare.main(mixed_params(policy))
    assert read_skipped()["files"] == [{"path": "empty-style/", "reason": "empty class folder (the class is left out)"}]
    assert "empty-style" not in prepare.read_classes()


def test_non_utf8_file_name_skipped(workdir):
    root = workdir / "data/raw" / DATASET
    write_photo_crops(root, per_class=3)
    try:
        name = b"caf\xe9.jpg".decode("utf-8", "surrogateescape")
        write_plain_jpeg(root / "coffee" / name)
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system rejects file names that are not UTF-8")
    prepare.main(mixed_params())
    assert read_skipped()["files"] == [
        {"path": "coffee/caf\\xe9.jpg", "reason": "file name is not valid UTF-8; rename the file"}
    ]


def test_all_images_of_class_skipped_leaves_class_out(workdir):
    root = workdir / "data/raw" / DATASET
    write_photo_crops(root, per_class=3)
    for path in (root / "rocket").iterdir():
        path.write_bytes(b"")
    prepare.main(mixed_params())
    assert prepare.read_classes() == ["astronaut", "chelsea", "coffee"]


def test_split_made_after_skipping(workdir):
    # Split over all 7 rocket files, the 3 good ones would all land in val and test.
    root = workdir / "data/raw" / DATASET
    write_photo_crops(root, per_class=3)
    for index in range(4):
        (root / "rocket" / f"bad{index}.jpg").write_bytes(b"")
    prepare.main(mixed_params())
    rocket_splits = sorted(row["split"] for row in prepare.read_manifest() if row["label"] == "rocket")
    assert rocket_splits == ["test", "train", "train"]


def test_summary_line_counts_skipped(workdir, caplog):
    root = workdir / "data/raw" / DATASET
    write_photo_crops(root, per_class=3)
    write_kind(root, REJECTED, "zero_byte")
    write_kind(root, REJECTED, "text_named_jpg")
    with caplog.at_level("INFO", logger="fashionbg.prepare"):
        prepare.main(mixed_params())
    assert "2 skipped (listed in metrics/skipped.json)" in caplog.messages[-1]


# ----------------------------------------------------------------------------------------------
# prepare on the FashionStyle14 layout: split CSVs with bad rows


def _append_row(csv_path: Path, *cells: str) -> int:
    """Append a row to `csv_path`; return its line number."""
    with open(csv_path, "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerow(cells)
    return len(csv_path.read_text(encoding="utf-8").splitlines())


def _missing_file_row(root: Path) -> tuple[str, str]:
    line = _append_row(root / "train.csv", "astronaut/gone.jpg", "astronaut")
    return "astronaut/gone.jpg", rf"train\.csv:{line}: file not found"


def _unknown_label_row(root: Path) -> tuple[str, str]:
    write_plain_jpeg(root / "astronaut/extra.jpg")
    line = _append_row(root / "train.csv", "astronaut/extra.jpg", "hat")
    return "astronaut/extra.jpg", rf"train\.csv:{line}: label 'hat' is not a class \(astronaut, chelsea, coffee, rocket\)"


def _duplicate_row(root: Path) -> tuple[str, str]:
    first = (root / "train.csv").read_text(encoding="utf-8").splitlines()[1]
    line = _append_row(root / "test.csv", *first.split(","))
    path = first.split(",")[0]
    return path, rf"test\.csv:{line}: duplicate row \(the first occurrence, train\.csv:2, is kept\)"


def _absolute_path_row(root: Path) -> tuple[str, str]:
    outside = root.parent / "outside.jpg"
    write_plain_jpeg(outside)
    line = _append_row(root / "train.csv", str(outside), "coffee")
    return str(outside), rf"train\.csv:{line}: path must be relative to the dataset folder"


def _short_row(root: Path) -> tuple[str, str]:
    line = _append_row(root / "val.csv", "rocket/rocket_0.jpg")
    return "val.csv", rf"val\.csv:{line}: expected the columns path,label; the row is too short"


BAD_ROWS = {
    "missing_file": _missing_file_row,
    "unknown_label": _unknown_label_row,
    "duplicate_row": _duplicate_row,
    "absolute_path": _absolute_path_row,
    "short_row": _short_row,
}


@pytest.mark.parametrize("kind", sorted(BAD_ROWS))
def test_bad_csv_row_skipped_with_reason(workdir, kind):
    root = workdir / "data/raw" / DATASET
    written = write_fashionstyle14(root, per_class=3)
    path, reason = BAD_ROWS[kind](root)
    prepare.main(mixed_params())
    report = read_skipped()
    assert [entry["path"] for entry in report["files"]] == [path]
    assert re.match(reason, report["files"][0]["reason"])
    assert sorted(manifest_paths()) == sorted(written)


@pytest.mark.parametrize("kind", sorted(BAD_ROWS))
def test_bad_csv_row_fails_naming_row_and_fix(workdir, kind):
    root = workdir / "data/raw" / DATASET
    write_fashionstyle14(root, per_class=3)
    _, reason = BAD_ROWS[kind](root)
    with pytest.raises(DataError) as raised:
        prepare.main(mixed_params("fail"))
    assert re.search(reason, str(raised.value))
    assert "set data.on_bad_image: skip" in str(raised.value)


@pytest.mark.parametrize("policy", ["fail", "skip"])
def test_csv_header_label_path_order(workdir, policy):
    root = workdir / "data/raw" / DATASET
    written = write_fashionstyle14(root, per_class=3)
    rows = [line.split(",") for line in (root / "test.csv").read_text().splitlines()[1:]]
    (root / "test.csv").write_text("label,path\n" + "".join(f"{label},{path}\n" for path, label in rows))
    prepare.main(mixed_params(policy))
    labels = {row["path"]: row["label"] for row in prepare.read_manifest()}
    assert labels == written


def test_csv_header_hint_for_unknown_header(workdir):
    root = workdir / "data/raw" / DATASET
    write_fashionstyle14(root, per_class=3)
    text = (root / "val.csv").read_text()
    (root / "val.csv").write_text(text.replace("path,label", "image,style", 1))
    with pytest.raises(DataError, match=r"val\.csv:1: label 'style'.*header row must name the columns path and label"):
        prepare.main(mixed_params("fail"))


def test_unlisted_image_counted_and_named(workdir, caplog):
    root = workdir / "data/raw" / DATASET
    written = write_fashionstyle14(root, per_class=3)
    photo("coffee").resize((96, 72)).save(root / "coffee/not_in_any_csv.jpg")
    (root / "masks").mkdir()
    photo("coffee").resize((96, 72)).save(root / "masks/ground_truth.png")  # outside the class folders
    with caplog.at_level("WARNING", logger="fashionbg.prepare"):
        prepare.main(mixed_params("fail"))
    assert sorted(manifest_paths()) == sorted(written)
    assert json.loads((layout.METRICS / "prepare.json").read_text())["unlisted"] == 1
    warnings = [message for message in caplog.messages if "not listed in train.csv" in message]
    assert len(warnings) == 1
    assert "1 image files" in warnings[0]
    assert "coffee/not_in_any_csv.jpg" in warnings[0]


# ----------------------------------------------------------------------------------------------
# dvc repro with data.on_bad_image: skip over a dataset that mixes every kind with good images

def _check_outputs_follow_manifest(root: Path, expected: set[str]) -> None:
    manifest = {row["path"] for row in prepare.read_manifest(root / layout.MANIFEST)}
    assert manifest == expected
    index = json.loads((root / "data/rembg/index.json").read_text(encoding="utf-8"))
    assert set(index) == expected
    for folder in (layout.REMBG_IMAGES, layout.REMBG_MASKS):
        written = {path.relative_to(root / folder).as_posix() for path in (root / folder).rglob("*") if path.is_file()}
        assert written == {f"{path}.png" for path in expected}


def _imagefolder_repo(root: Path) -> dict:
    """Make a repository whose dataset mixes good photographs with a file of every kind; return expectations."""
    make_dvc_repo(root, mixed_params())
    dataset = root / "data/raw" / DATASET
    good = set(write_photo_crops(dataset, per_class=3))
    converted = {write_kind(dataset, CONVERTED, kind) for kind in CONVERTED}
    rejected = {write_kind(dataset, REJECTED, kind): REJECTED[kind][3] for kind in REJECTED}
    (dataset / "empty-style").mkdir()
    rejected["empty-style/"] = r"empty class folder \(the class is left out\)$"
    # The segmentation stages need annotations, which this dataset lacks, so the run stops at train.
    return {"root": root, "kept": good | converted, "rejected": rejected, "command": ["dvc", "repro", "train"]}


def _fashionstyle14_repo(root: Path) -> dict:
    """Make a repository whose split CSVs mix good rows with bad rows and bad or unusual files."""
    make_dvc_repo(root, mixed_params(**{"data.variant": "rembg"}))
    dataset = root / "data/raw" / DATASET
    good = set(write_fashionstyle14(dataset, per_class=3))
    rejected = {path: reason for path, reason in (builder(dataset) for builder in BAD_ROWS.values())}
    for kind in ("truncated_jpeg", "text_named_jpg", "one_pixel"):
        relpath = write_kind(dataset, REJECTED, kind)
        _append_row(dataset / "train.csv", relpath, REJECTED[kind][0])
        rejected[relpath] = REJECTED[kind][3]
    for kind in ("cmyk_jpeg", "gray16_png", "rgba_png", "exif_6_jpeg", "unicode_space_name"):
        relpath = write_kind(dataset, CONVERTED, kind)
        _append_row(dataset / "train.csv", relpath, CONVERTED[kind][0])
        good.add(relpath)
    # prepare, rembg and train are the stages that read images.
    return {"root": root, "kept": good, "rejected": rejected, "command": ["dvc", "repro", "train"]}


@pytest.fixture(scope="module")
def mixed_repros(tmp_path_factory) -> dict[str, dict]:
    """Run `dvc repro` with data.on_bad_image: skip on both layouts at once."""
    repos = {
        "imagefolder": _imagefolder_repo(tmp_path_factory.mktemp("imagefolder")),
        "fashionstyle14": _fashionstyle14_repo(tmp_path_factory.mktemp("fashionstyle14")),
    }
    processes = {layout_name: start_command(repo["command"], repo["root"]) for layout_name, repo in repos.items()}
    for layout_name, process in processes.items():
        repos[layout_name]["output"] = finish_command(process)
    return repos


@pytest.mark.slow
@pytest.mark.parametrize("layout_name", ["imagefolder", "fashionstyle14"])
def test_repro_skip_summary_counts(mixed_repros, layout_name):
    repo = mixed_repros[layout_name]
    assert f"{len(repo['rejected'])} skipped (listed in metrics/skipped.json)" in repo["output"]


@pytest.mark.slow
@pytest.mark.parametrize("layout_name", ["imagefolder", "fashionstyle14"])
def test_repro_skipped_report_reasons(mixed_repros, layout_name):
    repo = mixed_repros[layout_name]
    report = json.loads((repo["root"] / "metrics/skipped.json").read_text(encoding="utf-8"))
    reasons = {entry["path"]: entry["reason"] for entry in report["files"]}
    assert set(reasons) == set(repo["rejected"])
    for path, reason in repo["rejected"].items():
        assert re.match(reason, reasons[path]), path


@pytest.mark.slow
@pytest.mark.parametrize("layout_name", ["imagefolder", "fashionstyle14"])
def test_repro_outputs_follow_manifest(mixed_repros, layout_name):
    repo = mixed_repros[layout_name]
    _check_outputs_follow_manifest(repo["root"], repo["kept"])


@pytest.mark.slow
@pytest.mark.parametrize("layout_name", ["imagefolder", "fashionstyle14"])
def test_repro_trains_on_kept_images(mixed_repros, layout_name):
    metrics = json.loads((mixed_repros[layout_name]["root"] / "metrics/train/metrics.json").read_text())
    assert 0.0 <= metrics["test"]["top1"] <= 1.0
