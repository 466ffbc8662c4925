"""Configuration mistakes through `python -m fashionbg STAGE`: one `error:` line on stderr, exit status 2."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import tiny_params, write_photo_crops
from fashionbg import prepare

# case -> (stage, params changes, extra environment, text the message must contain)
CASES = {
    "unknown_timm_model": ("train", {"model": "resnet19"}, {}, "unknown timm model 'resnet19'; did you mean resnet18"),
    "unknown_augment": ("train", {"augment": "flipp"}, {}, "'flipp' (did you mean 'flip'?)"),
    "unknown_rembg_model": ("rembg", {"rembg.model": "u2netq"}, {}, "unknown model 'u2netq' (did you mean u2net, u2netp?)"),
    "missing_dataset": ("prepare", {"data.dataset": "nowhere"}, {}, "data/raw/nowhere: dataset folder not found"),
    "imagenet_without_weights": (
        "train", {"model": "resnet18", "init": "imagenet"}, {"HF_HUB_OFFLINE": "1"}, "or set init: random",
    ),
    "epochs_not_int": ("train", {"train.epochs": "ten"}, {}, "train.epochs must be int, got 'ten' (str)"),
    "unknown_bad_image_policy": ("prepare", {"data.on_bad_image": "ignore"}, {}, "use one of fail, skip"),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Run every case at once, each in its own copy of a prepared folder with its own params.yaml."""
    base = tmp_path_factory.mktemp("prepared")
    write_photo_crops(base / "data/raw/photos", per_class=2)
    with contextlib.chdir(base):
        prepare.main(tiny_params(**{"data.dataset": "photos"}))

    processes = {}
    for case, (stage, changes, extra_env, _) in CASES.items():
        folder = tmp_path_factory.mktemp(case)
        shutil.copytree(base / "data", folder / "data")
        params = tiny_params(**{"data.dataset": "photos", **changes})
        (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        cache = folder / "empty-cache"
        cache.mkdir()
        env = dict(os.environ, FASHIONBG_CACHE=str(cache), **extra_env)
        processes[case] = subprocess.Popen(
            [sys.executable, "-m", "fashionbg", stage],
            cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
    results = {}
    for case, process in processes.items():
        stdout, stderr = process.communicate(timeout=600)
        results[case] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return results


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_exit_status(results, case):
    assert results[case].returncode == 2, results[case].stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_single_stderr_line(results, case):
    lines = results[case].stderr.splitlines()
    assert len(lines) == 1, results[case].stderr
    assert lines[0].startswith("error: ")


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_has_no_traceback(results, case):
    assert "Traceback" not in results[case].stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_names_value_and_fix(results, case):
    assert CASES[case][3] in results[case].stderr
