import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

import pixray
from pixray import PixrayError, SettingsError, WeightsUnavailableError
from pixray.cli import main
from pixray.session import Session
from pixray.settings import resolve
from pixray.taming import load_vqgan

DATA = Path(__file__).parent / "data"
CONFIG, CHECKPOINT = DATA / "taming_tiny.yaml", DATA / "taming_tiny.ckpt"


@pytest.fixture
def vqgan(quick):
    return {**quick, "drawer": "vqgan", "vqgan_config": str(CONFIG), "vqgan_checkpoint": str(CHECKPOINT),
            "pixel_size": None, "size": (37, 23)}


def test_matches_taming_outputs_exactly():
    """The fixture was made by taming-transformers' own VQModel (scripts/make_taming_fixture.py)."""
    model = load_vqgan(CONFIG, CHECKPOINT)
    ref = torch.load(DATA / "taming_tiny_reference.pt", weights_only=True)
    with torch.no_grad():
        pre = model.encode(ref["input"])
        assert torch.allclose(pre, ref["pre_quant"], atol=1e-5)
        assert torch.equal(model.quantize.codes(pre), ref["codes"])
        quant = model.quantize(pre)
        assert torch.allclose(quant, ref["quant"], atol=1e-5)
        assert torch.allclose(model.decode(quant), ref["decoded"], atol=1e-4)


def test_models_are_found_by_name_in_the_cache(tmp_path, monkeypatch, quick):
    monkeypatch.setenv("PIXRAY_CACHE", str(tmp_path))
    folder = tmp_path / "vqgan"
    folder.mkdir()
    shutil.copy(CONFIG, folder / "vqgan_tiny.yaml")  # pixray's file naming works too
    shutil.copy(CHECKPOINT, folder / "vqgan_tiny.ckpt")
    settings = resolve({**quick, "drawer": "vqgan", "vqgan_model": "tiny", "pixel_size": None})
    assert settings.vqgan_config == str(folder / "vqgan_tiny.yaml")


def test_missing_weights_is_one_line_before_any_model_loads(tmp_path, monkeypatch, quick, capsys):
    monkeypatch.setenv("PIXRAY_CACHE", str(tmp_path))
    monkeypatch.setattr("pixray.perceptors.load_perceptor", lambda *a: pytest.fail("CLIP loaded"))
    with pytest.raises(WeightsUnavailableError) as err:
        resolve({**quick, "drawer": "vqgan", "pixel_size": None})
    message = str(err.value)
    assert "\n" not in message and "imagenet_f16_16384" in message and str(tmp_path / "vqgan") in message
    assert "heibox.uni-heidelberg.de" in message and "vqgan_config" in message
    assert main(["--prompts", "x", "--drawer", "vqgan", "--outdir", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.startswith("pixray: error: VQGAN model 'imagenet_f16_16384' not found")


def test_config_and_checkpoint_errors(tmp_path, quick):
    with pytest.raises(SettingsError, match="go together"):
        resolve({**quick, "drawer": "vqgan", "vqgan_config": str(CONFIG), "pixel_size": None})
    bad = tmp_path / "gumbel.yaml"
    bad.write_text("model:\n  target: taming.models.vqgan.GumbelVQ\n  params: {}\n")
    with pytest.raises(PixrayError, match="'taming.models.vqgan.GumbelVQ' is not supported"):
        load_vqgan(bad, None)
    wrong = tmp_path / "wrong.ckpt"
    torch.save({"state_dict": {"encoder.conv_in.weight": torch.zeros(1)}}, wrong)
    with pytest.raises(PixrayError, match="does not match its config"):
        load_vqgan(CONFIG, wrong)


def test_drawer_shapes_range_gradients_and_clamp(vqgan):
    session = Session(resolve(vqgan))
    drawer = session.drawer
    image = drawer.synth()
    assert image.shape == (1, 3, 23, 37) and 0 <= image.min() and image.max() <= 1
    session.step()
    assert drawer.z.grad is not None and drawer.z.grad.abs().sum() > 0
    with torch.no_grad():
        drawer.z.mul_(100)
    drawer.clamp()
    assert torch.all(drawer.z <= drawer.z_max) and torch.all(drawer.z >= drawer.z_min)


def test_init_from_image_encodes_it(vqgan, tmp_path):
    path = tmp_path / "init.png"
    Image.new("RGB", (37, 23), (200, 40, 40)).save(path)
    session = Session(resolve({**vqgan, "init_image": str(path)}))
    model = session.drawer.model
    pixels = torch.tensor([200 / 255, 40 / 255, 40 / 255], device=session.device).view(1, 3, 1, 1).expand(1, 3, 24, 38)
    with torch.no_grad():
        assert torch.allclose(session.drawer.z, model.encode(pixels * 2 - 1), atol=1e-5)


def test_pixel_anchoring_reaches_the_latents(vqgan, tmp_path):
    path = tmp_path / "init.png"
    Image.new("RGB", (37, 23), (20, 200, 40)).save(path)
    session = Session(resolve({**vqgan, "prompts": "x:0", "init_image": str(path), "init_weight_pix": 1.0}))
    parts = session.step()
    assert parts["init_image pixels"] > 0 and session.drawer.z.grad.abs().sum() > 0


def test_random_weights_are_reproducible(vqgan):
    a = Session(resolve({**vqgan, "vqgan_checkpoint": "random"})).drawer.synth()
    torch.rand(100)
    b = Session(resolve({**vqgan, "vqgan_checkpoint": "random"})).drawer.synth()
    assert torch.equal(a, b)


def test_vqgan_run_as_pixel_art(vqgan, tmp_path):
    image = pixray.run(**{**vqgan, "size": (64, 48), "pixel_size": (16, 12), "palette": "pico8"})
    out = tmp_path / "run"
    with Image.open(out / "output_sprite.png") as sprite:
        assert sprite.size == (16, 12) and sprite.mode == "P"
    assert image.size == (64, 48)
