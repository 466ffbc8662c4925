import pytest
import torch

from fashionbg.augment import PRESETS, create_augmentation
from fashionbg.errors import ConfigError
from fashionbg.models import create_model
from fashionbg.train import Normalizer, train_batches


@pytest.mark.parametrize("name", PRESETS)
def test_preset_trains_one_step(name):
    torch.manual_seed(0)
    images = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    augmentation = create_augmentation(name, 32, num_classes=4)
    model = create_model("resnet18", 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    normalize = Normalizer((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    batch, target = next(train_batches(images, labels, 8, augmentation, torch.Generator().manual_seed(0)))
    assert batch.dtype == torch.uint8
    assert batch.shape == (8, 3, 32, 32)
    inputs = normalize(batch)
    if augmentation.erase is not None:
        inputs = torch.stack([augmentation.erase(x) for x in inputs])
    if augmentation.batch is not None:
        inputs, soft = augmentation.batch(inputs, target)
        assert soft.shape == (8, 4)
        loss = torch.sum(-soft * torch.log_softmax(model(inputs), dim=-1), dim=-1).mean()
    else:
        loss = torch.nn.functional.cross_entropy(model(inputs), target)
    before = model.fc.weight.detach().clone()
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    assert not torch.equal(before, model.fc.weight)


def test_preset_none_leaves_images_unchanged():
    image = torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8)
    assert torch.equal(create_augmentation("none", 16, 4).sample(image), image)


def test_mixing_preset_drops_odd_last_sample():
    images = torch.zeros((5, 3, 8, 8), dtype=torch.uint8)
    labels = torch.zeros(5, dtype=torch.long)
    augmentation = create_augmentation("mixup", 8, 2)
    sizes = [len(b) for b, _ in train_batches(images, labels, 5, augmentation, torch.Generator().manual_seed(0))]
    assert sizes == [4]


def test_unknown_preset_suggests_close_name():
    with pytest.raises(ConfigError, match="'cutmix'"):
        create_augmentation("cutmixx", 32, 4)
