"""Reliability: signals, non-finite losses, image modes, output folders, start-up, shapes."""

import argparse
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

import pixray
from pixray.errors import NonFiniteLossError, PixrayWarning
from pixray.image_files import open_image
from pixray.session import Session
from pixray.settings import resolve

from .conftest import TINY, isolated_env


# ---- stopping: SIGTERM, NaN ---------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigterm_writes_the_picture_and_settings(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "pixray.cli", "--prompts", "a red apple", "--clip_models",
                                "embedded", "--drawer", "pixel", "--iterations", "100000", "--save_every", "0",
                                "--outdir", str(out)], cwd=tmp_path, env=isolated_env(tmp_path / "home"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "settings.yaml").exists() and time.time() < deadline:  # the loop has started
        time.sleep(0.2)
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "stopped (SIGTERM)" in stderr and "Traceback" not in stderr
    assert (out / "output.png").is_file() and (out / "output_sprite.png").is_file()


def test_a_loss_that_turns_nan_stops_the_run_and_keeps_the_last_good_picture(quick, tmp_path, monkeypatch):
    from pixray.losses.symmetry import SymmetryLoss

    original = SymmetryLoss.compute
    monkeypatch.setattr(SymmetryLoss, "compute", lambda self, ctx: original(self, ctx) * (
        float("nan") if ctx.iteration >= 2 else 1.0))
    session = Session(resolve({**quick, "custom_loss": "symmetry", "iterations": 6, "save_every": 1, "colors": 0}))
    with pytest.raises(NonFiniteLossError, match=r"loss \(symmetry\) stopped being a finite number at iteration 3"):
        session.run()
    assert session.iteration == 2 and session.result.interrupted
    written = Image.open(tmp_path / "run" / "output_sprite.png").convert("RGB")
    frame_2 = Image.open(tmp_path / "run" / "steps" / "000002.png").convert("RGB")
    assert written.tobytes() == frame_2.resize(written.size, Image.NEAREST).tobytes()
    assert torch.isfinite(session.drawer.cells).all()


def test_cli_reports_a_nan_loss_in_one_line(quick, tmp_path, monkeypatch, capsys):
    from pixray.cli import main
    from pixray.losses.symmetry import SymmetryLoss

    monkeypatch.setattr(SymmetryLoss, "compute", lambda self, ctx: ctx.image.sum() * float("nan"))
    code = main(["--prompts", "a red apple", "--clip_models", TINY, "--iterations", "3", "--num_cuts", "1",
                 "--size", "32", "32", "--custom_loss", "symmetry", "--outdir", str(tmp_path / "o")])
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("pixray: error:")]
    assert code == 2 and len(errors) == 1 and "saved the last good picture" in errors[0]
    assert (tmp_path / "o" / "output.png").is_file()


# ---- images of every mode -------------------------------------------------------------------------

@pytest.mark.parametrize("mode, make, expected", [
    ("I;16", lambda: Image.fromarray(np.full((4, 6), 32896, np.uint16)), (128, 128, 128)),
    ("I", lambda: Image.fromarray(np.full((4, 6), 65535, np.int32)), (255, 255, 255)),
    ("I", lambda: Image.fromarray(np.full((4, 6), 100, np.int32)), (100, 100, 100)),
    ("F", lambda: Image.fromarray(np.full((4, 6), 0.5, np.float32)), (128, 128, 128)),
    ("LA", lambda: Image.new("LA", (6, 4), (0, 0)), (255, 255, 255)),              # transparent: white paper
    ("LA", lambda: Image.new("LA", (6, 4), (50, 255)), (50, 50, 50)),
    ("P", lambda: _palette_with_transparency(), (255, 255, 255)),
    ("CMYK", lambda: Image.new("CMYK", (6, 4), (0, 255, 255, 0)), (255, 0, 0)),
    ("RGBA", lambda: Image.new("RGBA", (6, 4), (10, 20, 30, 255)), (10, 20, 30)),
])
def test_every_image_mode_reads_as_the_right_colours(tmp_path, mode, make, expected):
    image = make()
    assert image.mode == mode
    path = tmp_path / ("in.tif" if mode in ("I", "F", "CMYK") else "in.png")
    image.save(path)
    rgb = open_image(str(path), "init_image")
    assert rgb.mode == "RGB" and rgb.getpixel((0, 0)) == expected


def _palette_with_transparency():
    image = Image.new("P", (6, 4), 0)
    image.putpalette([0, 0, 0, 255, 0, 0])
    image.info["transparency"] = 0
    return image


def test_sixteen_bit_png_pixelates_to_its_greys(tmp_path):
    ramp = np.repeat(np.linspace(0, 65535, 8).astype(np.uint16)[None], 4, 0)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    art = pixray.pixelate(str(tmp_path / "deep.png"), pixel_size=(8, 4), colors=8)
    greys = np.asarray(art.sprite.convert("L"))[0]
    assert np.all(np.diff(greys.astype(int)) > 0) and greys[0] == 0 and greys[-1] == 255


# ---- output folders ---------------------------------------------------------------------------------

def test_seq_folders_are_never_reused_and_overwrite_leaves_no_stale_frames(quick, tmp_path):
    quick.update(iterations=4, save_every=1)
    first = Session(resolve({**quick, "outdir": str(tmp_path / "r-%SEQ%")})).run()
    again = Session(resolve({**quick, "outdir": str(tmp_path / "r-%SEQ%"), "overwrite": True})).run()
    assert (first.outdir.name, again.outdir.name) == ("r-001", "r-002")
    fixed = str(tmp_path / "fixed")
    Session(resolve({**quick, "outdir": fixed})).run()
    shorter = Session(resolve({**quick, "outdir": fixed, "overwrite": True, "save_every": 2})).run()
    assert sorted(p.name for p in (tmp_path / "fixed" / "steps").iterdir()) == ["000002.png", "000004.png"]
    assert shorter.frames == 2


def test_outdir_none_means_the_default_and_output_stays_inside(quick, tmp_path):
    settings = resolve({**quick, "outdir": None})
    assert settings.outdir == "outputs/%DATE%-%SEQ%"
    with pytest.raises(pixray.SettingsError, match="'output'.*without '..'"):
        resolve({**quick, "output": str(tmp_path / "elsewhere.png")})


# ---- start-up: no torch before the settings are known good ----------------------------------------

def test_help_and_bad_input_do_not_import_torch(tmp_path):
    code = ("import sys, pixray.cli as cli\n"
            "cli.build_parser().format_help()\n"
            "assert cli.main(['--prompts', 'x', '--palette', 'nosuch.hex']) == 2\n"
            "assert cli.main(['--prompts', 'x', '--init_image', 'missing.png']) == 2\n"
            "print('torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            env=isolated_env(tmp_path / "home"), timeout=120)
    assert result.stdout.strip() == "False", result.stderr


# ---- shapes: whole-number cells, the init image's shape -------------------------------------------

def test_size_alone_gives_whole_number_cells():
    assert resolve({"prompts": "x", "clip_models": TINY, "size": (64, 64)}).pixel_size == (32, 32)
    wide = resolve({"prompts": "x", "clip_models": TINY, "pixel_size": (64, 36)})
    assert wide.size == (384, 216)
    coarse = resolve({"prompts": "x", "clip_models": TINY, "pixel_scale": 2})
    assert coarse.pixel_size == (40, 22) and coarse.size == (400, 220)


def test_uneven_cells_the_user_asked_for_are_kept_with_a_warning():
    with pytest.warns(PixrayWarning, match=r"400x225 is not a whole multiple of the 64x36 cells.*384x216"):
        settings = resolve({"prompts": "x", "clip_models": TINY, "size": (400, 225), "pixel_size": (64, 36)})
    assert settings.size == (400, 225)


def test_offline_fallback_keeps_the_init_images_shape(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("pixray.perceptors.weights_available", lambda spec: spec.arch == "embedded")
    sprite = tmp_path / "castle_sprite.png"
    Image.new("RGB", (96, 54), (90, 90, 200)).save(sprite)
    settings = resolve({"prompts": "a castle", "init_image": str(sprite), "palette": "gameboy"})
    assert settings.clip_models == ["embedded"] and settings.drawer == "pixel"
    assert settings.pixel_size == (96, 54) and settings.size == (384, 216)
    photo = tmp_path / "photo.png"
    Image.new("RGB", (1000, 750)).save(photo)
    assert resolve({"prompts": "a castle", "init_image": str(photo)}).size == (400, 300)


def test_dither_without_a_palette_says_so():
    with pytest.warns(PixrayWarning, match="'dither': 'bayer4' has no effect without a palette or colors"):
        resolve({"prompts": "x", "clip_models": TINY, "dither": "bayer4", "colors": 0})


def test_a_time_in_a_prompt_is_pointed_out():
    with pytest.warns(PixrayWarning, match=r"read as a weight; write '\\:'"):
        resolve({"prompts": "a clock showing 10:30", "clip_models": TINY})


def test_learning_rate_drop_message_says_what_is_allowed():
    with pytest.raises(pixray.SettingsError, match="0.0 is out of range; allowed: more than 0 and less than 100"):
        resolve({"prompts": "x", "clip_models": TINY, "learning_rate_drops": 0})


def test_sprite_drawer_says_when_it_does_not_know_the_words(quick):
    with pytest.warns(PixrayWarning, match="does not know any of the words of 'a xylophone'"):
        Session(resolve({**quick, "prompts": "a xylophone", "drawer": "sprite", "clip_models": "embedded",
                         "pixel_size": None, "size": None}))


# ---- VQGAN checkpoints ------------------------------------------------------------------------------

def test_vqgan_checkpoints_with_objects_load_only_when_trusted(tmp_path, quick):
    from pixray.taming import load_vqgan

    config = os.path.join(os.path.dirname(__file__), "data", "taming_tiny.yaml")
    state = load_vqgan(config, None).state_dict()
    path = tmp_path / "lightning.ckpt"
    torch.save({"state_dict": state, "hparams": argparse.Namespace(lr=1)}, path)  # a pickled object
    with pytest.raises(pixray.PixrayError, match="set vqgan_trust_checkpoint=true"):
        load_vqgan(config, path)
    with pytest.warns(UserWarning, match="unpickling"):
        model = load_vqgan(config, path, trust=True)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), state.values()))


def test_random_vqgan_needs_no_config_for_a_known_model(quick):
    settings = resolve({**quick, "drawer": "vqgan", "vqgan_checkpoint": "random", "pixel_size": None})
    assert settings.vqgan_config is None and settings.vqgan_checkpoint == "random"


def test_a_second_ctrl_c_while_outputs_are_written_does_not_lose_the_gif(quick, tmp_path, monkeypatch):
    from pixray.outputs import OutputWriter

    finish = OutputWriter.finish

    def impatient_finish(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C again while files are written
        return finish(self, *args, **kwargs)

    monkeypatch.setattr(OutputWriter, "finish", impatient_finish)

    def first_ctrl_c(progress):
        if progress.iteration == 2:
            raise KeyboardInterrupt

    session = Session(resolve({**quick, "iterations": 6, "gif": True, "display_every": 1}))
    with pytest.raises(KeyboardInterrupt):
        session.run(callback=first_ctrl_c)
    out = tmp_path / "run"
    assert (out / "output.png").is_file() and (out / "output.gif").is_file()
    assert session.result.interrupted and session.result.iterations == 2


def test_palettes_hold_at_most_256_colours(tmp_path):
    colours = [f"{i:06x}" for i in range(0, 257 * 1000, 1000)]
    (tmp_path / "257.hex").write_text("\n".join(colours[:257]))
    (tmp_path / "256.hex").write_text("\n".join(colours[:256]))
    assert len(pixray.load_palette(str(tmp_path / "256.hex"))) == 256
    with pytest.raises(pixray.SettingsError, match="has 257 colours; at most 256 are allowed"):
        pixray.load_palette(str(tmp_path / "257.hex"))
