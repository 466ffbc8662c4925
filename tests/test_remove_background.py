import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from rembg import remove

from conftest import photo, tiny_params, write_photo_crops
from fashionbg import layout, prepare, remove_background
from fashionbg.errors import ConfigError


@pytest.fixture(scope="module")
def session():
    return remove_background.new_session("u2netp")


def test_astronaut_mask_matches_rembg_remove(session, rembg_session):
    image = photo("astronaut")
    ours = session.predict(image)[0]
    reference = remove(image, session=rembg_session, only_mask=True)
    assert type(rembg_session).__module__ == "rembg.sessions.u2netp"  # not the stage's own session class
    assert np.array_equal(np.asarray(ours), np.asarray(reference))


def test_u2netp_session_skips_rembg_import():
    code = (
        "import sys\n"
        "from fashionbg import remove_background\n"
        "session = remove_background.new_session('u2netp', 1)\n"
        "assert session.inner_session.get_inputs()[0].shape == [1, 3, 320, 320]\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('rembg', 'pymatting', 'numba')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def test_astronaut_mask_finds_the_person(session):
    mask = np.asarray(session.predict(photo("astronaut"))[0]) >= 128
    assert 0.15 < mask.mean() < 0.75
    assert mask[250:350, 200:300].mean() > 0.9  # the torso in the centre of the photo
    assert mask[:40, 450:].mean() < 0.1  # the flag and sky at the top right


@pytest.mark.parametrize("fill", [(255, 255, 255), (0, 128, 255)])
def test_cut_out_matches_rembg_bgcolor(session, rembg_session, fill):
    image = photo("coffee")
    mask = session.predict(image)[0]
    ours = remove_background.cut_out(image, mask, fill)
    reference = remove(image, session=rembg_session, bgcolor=(*fill, 255)).convert("RGB")
    assert np.array_equal(np.asarray(ours), np.asarray(reference))


def _run_prepare_and_rembg(params):
    prepare.main(params)
    remove_background.main(params)
    return json.loads((layout.METRICS / "rembg.json").read_text())


def test_rembg_stage_is_incremental(workdir):
    params = tiny_params(**{"data.dataset": "photos"})
    written = write_photo_crops(workdir / "data/raw/photos", per_class=3)
    first = _run_prepare_and_rembg(params)
    assert first["processed"] == len(written)
    for relpath in written:
        assert layout.rembg_image_path(relpath).exists()
        assert layout.rembg_mask_path(relpath).exists()

    again = _run_prepare_and_rembg(params)
    assert again["processed"] == 0
    assert again["reused"] == len(written)

    extra = photo("chelsea").resize((96, 72))
    extra.save(workdir / "data/raw/photos/chelsea/added.jpg")
    (workdir / "data/raw/photos/rocket/rocket_0.jpg").unlink()
    after_change = _run_prepare_and_rembg(params)
    assert after_change["processed"] == 1
    assert after_change["removed_stale"] == 2
    assert layout.rembg_image_path("chelsea/added.jpg").exists()
    assert not layout.rembg_image_path("rocket/rocket_0.jpg").exists()
    assert not layout.rembg_mask_path("rocket/rocket_0.jpg").exists()


def test_rembg_output_is_composited_on_fill(workdir):
    params = tiny_params(**{"data.dataset": "photos", "rembg.fill": [0, 128, 255]})
    write_photo_crops(workdir / "data/raw/photos", per_class=2)
    _run_prepare_and_rembg(params)
    image = np.asarray(Image.open(layout.rembg_image_path("coffee/coffee_0.jpg")))
    mask = np.asarray(Image.open(layout.rembg_mask_path("coffee/coffee_0.jpg")))
    assert image.shape[2] == 3
    background = image[mask == 0]
    assert len(background) > 0
    assert (background == [0, 128, 255]).all()


def test_mask_iou_scored_against_ground_truth(workdir):
    params = tiny_params(**{"data.dataset": "photos"})
    written = write_photo_crops(workdir / "data/raw/photos", per_class=2)
    prepare.main(params)
    remove_background.main(params)
    for relpath in written:  # ground truth equal to the prediction scores 1.0
        truth = workdir / "data/raw/photos/masks" / relpath.replace(".jpg", ".png")
        truth.parent.mkdir(parents=True, exist_ok=True)
        Image.open(layout.rembg_mask_path(relpath)).point(lambda v: 255 if v >= 128 else 0).save(truth)
    summary, scores = remove_background.score_masks(prepare.read_manifest(), workdir / "data/raw/photos/masks")
    assert summary["mask_iou_mean"] == 1.0
    assert summary["mask_iou_images"] == len(written)
    assert all(score["iou"] == 1.0 for score in scores.values())


def test_rerun_rescores_only_changed_masks(workdir, monkeypatch):
    params = tiny_params(**{"data.dataset": "photos"})
    first_image = next(iter(write_photo_crops(workdir / "data/raw/photos", per_class=2)))
    truth = workdir / "data/raw/photos/masks" / first_image.replace(".jpg", ".png")
    truth.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", Image.open(workdir / "data/raw/photos" / first_image).size, 255).save(truth)
    prepare.main(params)
    remove_background.main(params)
    first = json.loads((workdir / "metrics/rembg.json").read_text())

    scored = []
    original = remove_background.score_mask
    monkeypatch.setattr(remove_background, "score_mask", lambda *a: scored.append(a[0]) or original(*a))
    remove_background.main(params)  # nothing changed: every score is reused
    assert scored == []
    assert json.loads((workdir / "metrics/rembg.json").read_text())["mask_iou_mean"] == first["mask_iou_mean"]

    Image.new("L", Image.open(truth).size, 0).save(truth)  # a new ground truth is scored again
    os.utime(truth, ns=(1, 1))
    remove_background.main(params)
    assert scored == [first_image]
    assert json.loads((workdir / "metrics/rembg.json").read_text())["mask_iou_mean"] == 0.0


@pytest.mark.parametrize("fill", [[255, 255], [0, 0, 256], "white"])
def test_invalid_fill_names_the_key(fill):
    with pytest.raises(ConfigError, match="rembg.fill"):
        remove_background._parse_fill(fill)


def test_unknown_rembg_model_is_config_error():
    with pytest.raises(ConfigError, match="u2netp"):
        remove_background.new_session("u2netq")
