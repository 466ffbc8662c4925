import numpy as np
import pytest
import torch

from conftest import photo
from fashionbg.errors import AssetError, ConfigError
from fashionbg.models import create_model, normalization

EGYPTIAN_CAT = 285  # ImageNet-1k class index


def test_efficientnet_lite0_offline_weights_recognise_chelsea():
    model = create_model("tf_efficientnet_lite0", 1000, "imagenet").eval()
    mean, std = normalization(model)
    image = np.array(photo("chelsea").resize((224, 224)), dtype=np.float32) / 255.0
    x = (torch.from_numpy(image).permute(2, 0, 1) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    with torch.inference_mode():
        probabilities = model(x[None]).softmax(dim=1)[0]
    assert probabilities.argmax().item() == EGYPTIAN_CAT
    assert probabilities[EGYPTIAN_CAT] > 0.5


def test_imagenet_init_replaces_head_for_classes():
    model = create_model("tf_efficientnet_lite0", 7, "imagenet")
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 7)


def test_unknown_model_suggests_close_names():
    with pytest.raises(ConfigError, match="resnet50"):
        create_model("resnet5O", 3)


def test_imagenet_without_weights_names_model_path_and_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("FASHIONBG_CACHE", str(tmp_path))
    with pytest.raises(AssetError) as raised:
        create_model("resnet18", 3, "imagenet")
    message = str(raised.value)
    assert "'resnet18'" in message
    assert str(tmp_path / "resnet18.pth") in message
    assert "init: random" in message


def test_local_weights_file_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("FASHIONBG_CACHE", str(tmp_path))
    reference = create_model("resnet18", 1000, "random")
    torch.save(reference.state_dict(), tmp_path / "resnet18.pth")
    loaded = create_model("resnet18", 1000, "imagenet")
    assert torch.equal(loaded.conv1.weight, reference.conv1.weight)


def test_light_vgg_head_is_one_linear_layer():
    model = create_model("vgg11", 5, "random", light_vgg_head=True)
    assert isinstance(model.pre_logits, torch.nn.Identity)
    assert model.head.fc.in_features == 512
    assert model(torch.zeros(2, 3, 48, 48)).shape == (2, 5)


def test_invalid_init_is_config_error():
    with pytest.raises(ConfigError, match="init"):
        create_model("resnet18", 3, "pretrained")
