"""Pipelined rembg stage (masks equal rembg's own), the PNG writer, thread choice and the training image cache."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from rembg import remove

from conftest import photo, tiny_params, write_photo_crops
from fashionbg import image_cache, layout, prepare, remove_background
from fashionbg.errors import DataError

PHOTOS_512 = ("astronaut", "chelsea", "coffee", "rocket")


@pytest.fixture(scope="module")
def session():
    return remove_background.new_session("u2netp", 1)


@pytest.fixture
def photos_512(tmp_path):
    """Write 512x512 crops of real photographs and return their paths."""
    paths = []
    for name in PHOTOS_512:
        image = photo(name)
        side = min(image.size)
        for i, box in enumerate(((0, 0, side, side), (image.width - side, image.height - side, image.width, image.height))):
            path = tmp_path / "in" / f"{name}_{i}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            image.crop(box).resize((512, 512)).save(path, quality=92)
            paths.append(path)
    return paths


def _jobs(paths, root):
    return [remove_background.Job(p, root / "images" / f"{p.name}.png", root / "masks" / f"{p.name}.png") for p in paths]


def test_run_jobs_masks_equal_rembg_remove(session, rembg_session, photos_512, tmp_path):
    jobs = _jobs(photos_512, tmp_path / "out")
    sessions = [session, remove_background.new_session("u2netp", 1)]  # two images at a time
    remove_background.run_jobs(jobs, sessions, (255, 255, 255), workers=2, progress=False)
    for job in jobs:
        reference = remove(Image.open(job.source), session=rembg_session, only_mask=True)
        assert np.array_equal(np.asarray(Image.open(job.mask_out)), np.asarray(reference)), job.source.name


def test_run_jobs_cut_outs_equal_rembg(session, rembg_session, photos_512, tmp_path):
    jobs = _jobs(photos_512[:2], tmp_path / "out")
    remove_background.run_jobs(jobs, [session], (255, 255, 255), workers=2, progress=False)
    for job in jobs:
        reference = remove(Image.open(job.source), session=rembg_session, bgcolor=(255, 255, 255, 255)).convert("RGB")
        assert np.array_equal(np.asarray(Image.open(job.image_out)), np.asarray(reference)), job.source.name


def test_run_jobs_outputs_byte_identical(session, photos_512, tmp_path):
    first, second = _jobs(photos_512[:3], tmp_path / "a"), _jobs(photos_512[:3], tmp_path / "b")
    remove_background.run_jobs(first, [session, session], (0, 128, 255), workers=2, progress=False)
    remove_background.run_jobs(second, [session], (0, 128, 255), workers=1, progress=False)
    for a, b in zip(first, second):
        assert a.image_out.read_bytes() == b.image_out.read_bytes()
        assert a.mask_out.read_bytes() == b.mask_out.read_bytes()


def test_predictor_matches_across_thread_counts(rembg_session, photos_512):
    image = Image.open(photos_512[0]).convert("RGB")
    masks = [np.asarray(remove_background.Predictor(remove_background.new_session("u2netp", n)).predict(image))
             for n in (1, 2)]
    reference = rembg_session.predict(image)[0]
    assert np.array_equal(masks[0], np.asarray(reference))
    assert np.array_equal(masks[1], masks[0])


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_png_bytes_round_trip(mode):
    shape = (37, 53) if mode == "L" else (37, 53, 3)
    pixels = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    decoded = Image.open(io.BytesIO(remove_background.png_bytes(Image.fromarray(pixels, mode))))
    assert decoded.mode == mode
    assert np.array_equal(np.asarray(decoded), pixels)


def test_png_bytes_rejects_rgba():
    with pytest.raises(ValueError, match="RGBA"):
        remove_background.png_bytes(Image.new("RGBA", (4, 4)))


def test_auto_threads_within_usable_cores():
    assert 1 <= remove_background.auto_threads() <= remove_background.usable_cores()


@pytest.mark.parametrize(
    ("sessions", "threads", "images", "expected"),
    [(3, 2, 10, (3, 2)), (3, 2, 1, (1, 2)), (4, 1, 2, (2, 1))],
)
def test_plan_sessions_explicit(sessions, threads, images, expected):
    assert remove_background.plan_sessions(sessions, threads, images) == expected


def test_plan_sessions_auto(monkeypatch):
    monkeypatch.setattr(remove_background, "auto_threads", lambda: 4)
    assert remove_background.plan_sessions(0, 0, 100) == (4, 1)
    assert remove_background.plan_sessions(0, 0, 1) == (1, remove_background.usable_cores())
    assert remove_background.plan_sessions(2, 0, 100) == (2, 2)
    assert remove_background.plan_sessions(0, 2, 100) == (2, 2)
    assert remove_background.plan_sessions(0, 8, 100) == (1, 8)


def test_plan_sessions_auto_caps_sessions(monkeypatch):
    monkeypatch.setattr(remove_background, "auto_threads", lambda: 32)
    assert remove_background.plan_sessions(0, 0, 100) == (remove_background.MAX_AUTO_SESSIONS, 4)
    assert remove_background.plan_sessions(0, 1, 100) == (remove_background.MAX_AUTO_SESSIONS, 1)
    assert remove_background.plan_sessions(12, 0, 100) == (12, 2)


def test_session_options_disable_spinning():
    options = remove_background.session_options(1)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.intra_op_num_threads == 1


# prepare: a rerun decodes only new or changed images.


def _prepare_counting_decodes(params, monkeypatch) -> list[str]:
    decoded = []
    real_load = prepare.load_rgb
    monkeypatch.setattr(prepare, "load_rgb", lambda path: decoded.append(Path(path).name) or real_load(path))
    prepare.main(params)
    return decoded


def test_prepare_rerun_decodes_changed_images(workdir, monkeypatch):
    params = tiny_params(**{"data.dataset": "photos"})
    written = write_photo_crops(workdir / "data/raw/photos", per_class=3)
    assert len(_prepare_counting_decodes(params, monkeypatch)) == len(written)
    first = prepare.read_manifest()

    assert _prepare_counting_decodes(params, monkeypatch) == []
    assert prepare.read_manifest() == first

    photo("coffee").resize((96, 72)).save(workdir / "data/raw/photos/coffee/added.jpg")
    photo("rocket").resize((80, 64)).save(workdir / "data/raw/photos/astronaut/astronaut_0.jpg")  # new content
    assert sorted(_prepare_counting_decodes(params, monkeypatch)) == ["added.jpg", "astronaut_0.jpg"]
    rows = {row["path"]: row for row in prepare.read_manifest()}
    assert (rows["astronaut/astronaut_0.jpg"]["width"], rows["astronaut/astronaut_0.jpg"]["height"]) == ("80", "64")
    assert "coffee/added.jpg" in rows


def test_prepare_rerun_rejects_corrupted_file(workdir, monkeypatch):
    params = tiny_params(**{"data.dataset": "photos", "data.on_bad_image": "skip"})
    write_photo_crops(workdir / "data/raw/photos", per_class=3)
    prepare.main(params)
    target = workdir / "data/raw/photos/chelsea/chelsea_1.jpg"
    target.write_bytes(target.read_bytes()[:200])  # truncated in place: same path, new content
    assert _prepare_counting_decodes(params, monkeypatch) == ["chelsea_1.jpg"]
    assert "chelsea/chelsea_1.jpg" not in {row["path"] for row in prepare.read_manifest()}
    skipped = json.loads(prepare.SKIPPED_REPORT.read_text())["files"]
    assert [entry["path"] for entry in skipped] == ["chelsea/chelsea_1.jpg"]


def test_prepare_new_rules_decode_all(workdir, monkeypatch):
    params = tiny_params(**{"data.dataset": "photos"})
    written = write_photo_crops(workdir / "data/raw/photos", per_class=3)
    prepare.main(params)
    recorded = json.loads(prepare.VALIDATION.read_text())
    assert recorded["rules"] == prepare.validation_rules()
    recorded["rules"]["max_image_pixels"] = 1  # as if validated under another Pillow limit
    prepare.VALIDATION.write_text(json.dumps(recorded))
    assert len(_prepare_counting_decodes(params, monkeypatch)) == len(written)


# The training image cache.


@pytest.fixture
def photos_dataset(workdir):
    params = tiny_params(**{"data.dataset": "photos"})
    write_photo_crops(workdir / "data/raw/photos", per_class=3)
    prepare.main(params)
    return params


def _decode_all(rows, variant, size):
    return torch.stack([
        torch.from_numpy(image_cache.decode(layout.image_path(variant, "photos", row["path"]), size, variant))
        for row in rows
    ])


def test_cache_equals_direct_decode(photos_dataset):
    rows = prepare.read_manifest()
    images = image_cache.load(rows, "photos", "original", 32)
    assert images.shape == (len(rows), 3, 32, 32)
    assert torch.equal(images, _decode_all(rows, "original", 32))


def test_cache_file_reread_without_decoding(photos_dataset, monkeypatch):
    rows = prepare.read_manifest()
    first = image_cache.load(rows, "photos", "original", 32)
    monkeypatch.setattr(image_cache, "decode", lambda *args: pytest.fail("decoded although cached"))
    again = image_cache.load(rows, "photos", "original", 32)
    assert torch.equal(again, first)


def test_cache_decodes_only_added_image(photos_dataset, workdir, monkeypatch):
    image_cache.load(prepare.read_manifest(), "photos", "original", 32)
    photo("coffee").resize((96, 72)).save(workdir / "data/raw/photos/coffee/added.jpg")
    prepare.main(photos_dataset)
    rows = prepare.read_manifest()
    decoded = []
    real_decode = image_cache.decode
    monkeypatch.setattr(image_cache, "decode", lambda path, *args: decoded.append(path) or real_decode(path, *args))
    images = image_cache.load(rows, "photos", "original", 32)
    assert [path.name for path in decoded] == ["added.jpg"]
    assert torch.equal(images, _decode_all(rows, "original", 32))


def test_cache_key_changes_with_image_content(photos_dataset, workdir):
    rows = prepare.read_manifest()
    image_cache.load(rows, "photos", "original", 32)
    photo("rocket").resize((96, 72)).save(workdir / "data/raw/photos/astronaut/astronaut_0.jpg")
    prepare.main(photos_dataset)
    rows = prepare.read_manifest()
    assert torch.equal(image_cache.load(rows, "photos", "original", 32), _decode_all(rows, "original", 32))


def test_cache_rebuilds_unreadable_file(photos_dataset):
    rows = prepare.read_manifest()
    path = image_cache.cache_path("photos", "original", 32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a tensor file")
    assert torch.equal(image_cache.load(rows, "photos", "original", 32), _decode_all(rows, "original", 32))


def test_cache_rembg_without_index_fails(photos_dataset):
    with pytest.raises(DataError, match="dvc repro rembg"):
        image_cache.load(prepare.read_manifest(), "photos", "rembg", 32)


def test_cache_rembg_key_has_model_fill(photos_dataset):
    rows = prepare.read_manifest()
    index = {row["path"]: {"sha256": row["sha256"], "model": "u2netp", "fill": [1, 2, 3]} for row in rows}
    layout.REMBG.mkdir(parents=True, exist_ok=True)
    (layout.REMBG / "index.json").write_text(json.dumps(index))
    keys = image_cache.row_keys(rows, "rembg")
    assert json.loads(keys[0]) == [rows[0]["path"], rows[0]["sha256"], "u2netp", [1, 2, 3]]


def test_cache_stage_keeps_only_needed_files(photos_dataset):
    stale = image_cache.cache_path("photos", "original", 999)
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"old")
    params = tiny_params(
        **{
            "data.dataset": "photos",
            "grid.scratch.variants": ["original"],
            "grid.augmented.variants": ["original"],
            "grid.pretrained.variants": ["original"],
        }
    )
    image_cache.main(params)
    assert sorted(p.name for p in image_cache.CACHE.glob("*.pt")) == ["photos-original-32.pt"]


def test_cache_needed_covers_train_grid():
    params = tiny_params(**{"data.variant": "rembg", "train.image_size": 40, "grid.train.image_size": 24})
    assert image_cache.needed(params) == [("original", 24), ("rembg", 24), ("rembg", 40)]
