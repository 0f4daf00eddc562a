import sys

import pytest
import yaml
from PIL import Image

import pixray
from pixray import SettingsError
from pixray.perceptors import ModelSpec, parse_model_name
from pixray.settings import QUALITY_PRESETS, load_yaml, resolve

from .conftest import TINY


def apply(**values):
    pixray.reset_settings()
    pixray.add_settings(**values)
    return pixray.apply_settings()


def test_add_settings_merges_and_last_call_wins():
    pixray.add_settings(prompts="a cat", iterations=10, clip_models=TINY)
    pixray.add_settings(iterations=20, seed="moon")
    settings = pixray.apply_settings()
    assert settings.prompts == ["a cat"]
    assert settings.iterations == 20
    assert settings.seed == "moon"


def test_quality_preset_fills_only_what_was_not_given():
    settings = apply(prompts="x", quality="draft", num_cuts=5)
    assert settings.num_cuts == 5
    assert settings.iterations == QUALITY_PRESETS["draft"]["iterations"]
    assert settings.clip_models == ["ViT-B/32"]
    best = apply(prompts="x", quality="best", iterations=3)
    assert best.iterations == 3 and best.num_cuts == QUALITY_PRESETS["best"]["num_cuts"]
    assert len(best.clip_models) == 3


@pytest.mark.parametrize("aspect, size, cells", [
    ("widescreen", (400, 225), (80, 45)),
    ("square", (320, 320), (40, 40)),
    ("portrait", (320, 400), (40, 50)),
])
def test_aspect_gives_pixray_grids(aspect, size, cells):
    settings = apply(prompts="x", aspect=aspect, clip_models=TINY)
    assert settings.size == size
    assert settings.pixel_size == cells


def test_scale_is_pixrays_and_pixel_scale_divides_the_grid():
    settings = apply(prompts="x", aspect="square", scale=2, pixel_scale=2, clip_models=TINY)
    assert settings.pixel_size == (20, 20)
    assert settings.size == (280, 280)  # pixray's 144 x 2, made whole 14-pixel cells
    wide = apply(prompts="x", scale=2.5, clip_models=TINY)  # pixray: 192x108 x 2.5
    assert (wide.size, wide.pixel_size) == ((480, 270), (80, 45))
    assert apply(prompts="x", ezsize="medium", drawer="clipdraw", clip_models=TINY).size == (384, 216)


@pytest.mark.filterwarnings("ignore:setting 'size'.*mixels")  # uneven cells on purpose
def test_explicit_size_and_pixel_size_win_and_accept_many_spellings():
    assert apply(prompts="x", size="300x200", pixel_size="30 20").size == (300, 200)
    assert apply(prompts="x", size=[300, 200], pixel_size=30).pixel_size == (30, 30)
    assert apply(prompts="x", size=128).size == (128, 128)


def test_dash_case_and_pixray_aliases():
    settings = apply(**{"prompts": "x", "pixel-size": "8 8", "cutn": 3, "lr": 0.5, "size": 64})
    assert settings.pixel_size == (8, 8) and settings.num_cuts == 3 and settings.learning_rate == 0.5


def test_learning_rate_defaults_to_the_drawer():
    from pixray.drawers import drawer_class
    assert apply(prompts="x").learning_rate == drawer_class("pixel").default_learning_rate


def test_prompts_split_on_pipes():
    assert apply(prompts="a|b:0.5|c:-1").prompts == ["a", "b:0.5", "c:-1"]
    assert apply(prompts=["a", "b|c"]).prompts == ["a", "b", "c"]


def test_unknown_setting_suggests_the_closest_names():
    with pytest.raises(SettingsError, match=r"unknown setting 'iteratons'; did you mean 'iterations'"):
        pixray.add_settings(iteratons=5)
    with pytest.raises(SettingsError, match="pixel_size"):
        pixray.add_settings(pixelsize=5)


@pytest.mark.parametrize("key, value, message", [
    ("quality", "ultra", r"'quality': 'ultra' is not one of draft, normal, better, best"),
    ("aspect", "round", r"'aspect': 'round' is not one of square, widescreen, portrait"),
    ("init_image_alpha", 300, r"'init_image_alpha': 300 is out of range; allowed: between 0 and 255"),
    ("num_cuts", 0, r"'num_cuts': 0 is out of range"),
    ("iterations", "many", r"'iterations': cannot use 'many'"),
    ("size", "1x2x3", r"'size': cannot use '1x2x3': expected WIDTH HEIGHT"),
    ("device", "tpu", r"'device': 'tpu' is not one of auto, cpu, cuda, mps"),
    ("overwrite", "maybe", r"'overwrite': cannot use 'maybe': expected true or false"),
    ("learning_rate", -1, r"'learning_rate': -1.0 is out of range"),
])
def test_invalid_values_name_the_setting_and_what_is_allowed(key, value, message):
    with pytest.raises(SettingsError, match=message):
        pixray.add_settings(**{key: value})


@pytest.mark.parametrize("values, message", [
    (dict(), r"'prompts': give at least one"),
    (dict(prompts="x", drawer="oil"), r"'drawer': 'oil' is not one of clipdraw, fft, line_sketch, pixel, sprite, vqgan"),
    (dict(prompts="x", size=(32, 32), pixel_size=(64, 8)), r"'pixel_size': 64x8 cells must be"),
    (dict(prompts="x", learning_rate_drops=[120]), r"'learning_rate_drops': 120.0 is out of range"),
    (dict(prompts="x", init_image="/no/such.png"), r"'init_image': '/no/such.png' does not exist"),
    (dict(prompts="x", image_prompts="/no/such.png:2"), r"'image_prompts': '/no/such.png' does not"),
    (dict(prompts="x", clip_models="ViT-Q/99"), r"'clip_models': unknown model 'ViT-Q/99'"),
    (dict(prompts="x", output="out.jpg"), r"'output': cannot use 'out.jpg': must be a .png"),
])
def test_resolve_rejects_bad_combinations(values, message):
    with pytest.raises(SettingsError, match=message):
        resolve(values)


def test_cuda_request_without_cuda_is_a_settings_error():
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(SettingsError, match=r"'device': cuda was asked for"):
        apply(prompts="x", device="cuda")


def test_errors_come_before_any_model_loads(monkeypatch, tmp_path):
    import pixray.perceptors as perceptors
    monkeypatch.setattr(perceptors, "load_perceptor", lambda *a: pytest.fail("a model was loaded"))
    with pytest.raises(SettingsError, match="quality"):
        pixray.run("x", "pixel", quality="superb", outdir=str(tmp_path))
    with pytest.raises(SettingsError, match="clip_models"):
        pixray.run("x", "pixel", clip_models="ViT-B-32:no_such_tag", outdir=str(tmp_path))
    assert not any(tmp_path.iterdir()), "nothing may be written before the settings are valid"


def test_library_calls_never_read_sys_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pixray", "--iterations", "999", "--quality", "nonsense"])
    settings = apply(prompts="x", iterations=3)
    assert settings.iterations == 3 and settings.quality == "normal"


def test_yaml_file_loads_with_the_same_names_and_checks(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"prompts": "a|b", "pixel-size": [10, 5], "cutn": 4}))
    assert load_yaml(path) == {"prompts": ["a", "b"], "pixel_size": (10, 5), "num_cuts": 4}
    path.write_text("iterations: [1, 2\n")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_yaml(path)
    path.write_text("qualty: best\n")
    with pytest.raises(SettingsError, match="did you mean 'quality'"):
        load_yaml(path)
    with pytest.raises(SettingsError, match="does not exist"):
        load_yaml(tmp_path / "missing.yaml")


@pytest.mark.parametrize("name, arch, pretrained", [
    ("ViT-B/32", "ViT-B-32", "openai"),
    ("ViT-L/14@336px", "ViT-L-14-336", "openai"),
    ("RN50", "RN50", "openai"),
    ("ViT-B-32:laion2b_s34b_b79k", "ViT-B-32", "laion2b_s34b_b79k"),
    ("ViT-B-32:random", "ViT-B-32", None),
    ("ViT-B-32", "ViT-B-32", "openai"),
])
def test_model_names(name, arch, pretrained):
    assert parse_model_name(name) == ModelSpec(name, arch, pretrained)


def test_model_name_with_local_weights_file(tmp_path):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"")
    assert parse_model_name(f"ViT-B-32:{weights}").pretrained == str(weights)
    with pytest.raises(SettingsError, match="weights file '/no/w.pt' for ViT-B-32 does not exist"):
        parse_model_name("ViT-B-32:/no/w.pt")
    with pytest.raises(SettingsError, match=r"ViT-B-32 has no weights 'laion9'; allowed: .*openai.*random"):
        parse_model_name("ViT-B-32:laion9")


def test_the_embedded_guide_draws_on_a_square_canvas_unless_the_user_shapes_the_picture(tmp_path):
    """The guide learned one thing in a square frame; on pixray's wide default it stretched the thing."""
    guide = {"prompts": "a green frog", "clip_models": "embedded"}
    for drawer in ("pixel", "clipdraw", "sprite"):
        settings = resolve({**guide, "drawer": drawer})
        assert settings.aspect == "square" and settings.size[0] == settings.size[1]
    assert resolve({**guide, "drawer": "pixel"}).pixel_size == (40, 40)
    assert resolve({**guide, "drawer": "pixel", "aspect": "widescreen"}).size == (400, 225)
    assert resolve({**guide, "drawer": "pixel", "size": (200, 100)}).size == (200, 100)
    assert resolve({**guide, "drawer": "pixel", "pixel_size": (64, 36)}).pixel_size == (64, 36)
    with_clip = resolve({"prompts": "a green frog", "clip_models": TINY, "drawer": "pixel"})
    assert with_clip.aspect == "widescreen" and with_clip.size == (400, 225)
    wide = tmp_path / "wide.png"
    Image.new("RGB", (300, 100), "red").save(wide)
    from_image = resolve({**guide, "drawer": "pixel", "init_image": str(wide)})
    assert from_image.size[0] / from_image.size[1] == pytest.approx(3, rel=0.1)  # an init image keeps its shape


def test_the_embedded_guide_gives_pixel_clipdraw_and_fft_white_paper_and_line_sketch_lines_unless_told_otherwise():
    pixel = resolve({"prompts": "a red apple", "clip_models": "embedded", "drawer": "pixel"})
    assert pixel.init_noise == "paper" and pixel.custom_loss == ["paper:0.5", "pale_outline:1.0", "dark_parts:1.0"]
    clipdraw = resolve({"prompts": "a red apple", "clip_models": "embedded", "drawer": "clipdraw"})
    assert clipdraw.custom_loss == ["paper:0.5", "pale_outline:1.0", "dark_parts:1.0"]
    assert clipdraw.init_noise == "paper"
    fft = resolve({"prompts": "a red apple", "clip_models": "embedded", "drawer": "fft"})
    assert fft.custom_loss == ["paper:0.5", "pale_outline:1.0", "dark_parts:1.0"] and fft.init_noise == "paper"
    own = resolve({"prompts": "a red apple", "clip_models": "embedded", "drawer": "clipdraw",
                   "custom_loss": "smoothness"})
    assert own.custom_loss == ["smoothness"]
    plain = resolve({"prompts": "a red apple", "clip_models": TINY, "drawer": "pixel"})
    assert plain.custom_loss == [] and plain.init_noise != "paper"
    sketch = resolve({"prompts": "a red apple", "clip_models": "embedded", "drawer": "line_sketch"})
    assert (sketch.custom_loss, sketch.init_noise) == (["trace:3.0"], "outline")
    with_clip = resolve({"prompts": "a red apple", "clip_models": TINY, "drawer": "line_sketch"})
    assert (with_clip.custom_loss, with_clip.init_noise) == ([], "pixels")
