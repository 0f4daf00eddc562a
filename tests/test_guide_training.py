"""The code that rebuilds the embedded models (MODEL_CARD.md), on tiny made-up data: no npm."""

import io
import json
import tarfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pixray.guide import data, train
from pixray.guide.model import GuideConfig, GuideModel
from pixray.guide.prior import PriorConfig, SpritePrior


def test_multi_positive_loss_is_infonce_when_all_concepts_differ():
    logits = torch.randn(6, 6)
    labels = torch.arange(6)
    expected = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
    assert torch.allclose(train.multi_positive_loss(logits, labels), expected)


def test_multi_positive_loss_does_not_push_two_styles_of_one_emoji_apart():
    labels = torch.tensor([0, 0, 1])  # two drawings of emoji 0, one of emoji 1
    together = torch.tensor([[5.0, 5.0, 0.0], [5.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    apart = torch.tensor([[5.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    assert train.multi_positive_loss(together, labels) < train.multi_positive_loss(apart, labels)


def test_augment_shape_range_and_seed():
    rgba = torch.rand(5, 4, 64, 64)
    first = train.augment(rgba, 32, torch.Generator().manual_seed(3))
    again = train.augment(rgba, 32, torch.Generator().manual_seed(3))
    other = train.augment(rgba, 32, torch.Generator().manual_seed(4))
    assert first.shape == (5, 3, 32, 32) and first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_emoji_names_become_iconify_slugs():
    slugs = data._slugs({"name": "SLICE OF PIZZA", "short_names": ["pizza"]})
    assert {"name:slice-of-pizza", "name:sliceofpizza", "name:pizza"} <= set(slugs)


def _tar_with(files: dict[str, str]) -> tarfile.TarFile:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in files.items():
            raw = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    buffer.seek(0)
    return tarfile.open(fileobj=buffer)


def test_iconify_sets_are_found_by_code_or_by_name_and_rendered():
    pytest.importorskip("resvg_py")
    red_square = '<rect x="4" y="4" width="8" height="8" fill="#ff0000"/>'
    icons = {"width": 16, "height": 16, "icons": {"red-apple": {"body": red_square}, "frog": {"body": ""}},
             "aliases": {"apple-red": {"parent": "red-apple"}}}
    tar = _tar_with({"package/icons.json": json.dumps(icons), "package/chars.json": json.dumps({"1f438": "frog"})})
    sources = data._svg_sources("emojione", tar)
    assert "1F438" in sources and "name:apple-red" in sources
    image = data._image("emojione", {"unified": "1F34E", "name": "RED APPLE", "short_names": ["apple"]}, tar, sources)
    pixels = np.asarray(image.convert("RGBA").resize((16, 16)))
    assert tuple(pixels[8, 8]) == (255, 0, 0, 255) and pixels[1, 1, 3] == 0  # red inside, clear outside
    unknown = {"unified": "1F600", "name": "GRINNING FACE", "short_names": []}
    assert data._image("emojione", unknown, tar, sources) is None


def test_training_runs_on_several_styles_and_saves_a_safe_file(tiny_cache, tmp_path):
    config = GuideConfig(channels=[8, 8, 8, 8], embed_dim=16, word_dim=16, buckets=64)
    model, metrics = train.train(["a"], config, seed=0, epochs=2, batch=8, cache=tiny_cache, held_out_styles=["b"],
                                 log=lambda line: None)
    assert metrics["items"] == 4 and metrics["concepts"] == 4
    assert {"r@1_clean_a", "r@1_augmented_a", "r@1_clean_b", "r@1_augmented_b"} <= set(metrics)
    assert "frog" in model.config.vocab
    path = tmp_path / "guide.pt"
    torch.save(model.to_file(), path)
    loaded = GuideModel.from_file(torch.load(path, weights_only=True))
    with torch.no_grad():
        assert torch.allclose(loaded.encode_text(["a frog"]), model.encode_text(["a frog"]))


def test_prior_latent_grid_follows_its_config():
    for latent_size in (4, 8):
        prior = SpritePrior(PriorConfig(latent_size=latent_size, width=16))
        mean, log_var = prior.encode(torch.rand(2, 4, 32, 32))
        assert mean.shape == (2, 4, latent_size, latent_size) == log_var.shape
        assert prior.decode(mean).shape == (2, 4, 32, 32)
