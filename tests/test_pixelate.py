import numpy as np
import pytest
from PIL import Image

import pixray.perceptors as perceptors
from pixray import SettingsError
from pixray.cli import main
from pixray.palettes import load_palette
from pixray.pixelation import pixelate, save_pixel_art

GAMEBOY = {tuple(c) for c in load_palette("gameboy").colors}


@pytest.fixture
def photo(tmp_path):
    y, x = np.mgrid[0:180, 0:320]
    rgb = np.dstack([x / 319 * 255, (np.sin(x / 20) * 0.5 + 0.5) * 200, y / 179 * 255]).astype(np.uint8)
    path = tmp_path / "photo.jpg"
    Image.fromarray(rgb).save(path, quality=95)
    return path


@pytest.fixture(autouse=True)
def no_models(monkeypatch):
    monkeypatch.setattr(perceptors, "load_perceptor", lambda *a: pytest.fail("pixelate must not load a model"))


def test_pixelate_to_a_palette_at_an_exact_grid(photo):
    art = pixelate(photo, pixel_size=(96, 54), palette="gameboy", dither="bayer4")
    assert art.sprite.size == (96, 54) and art.sprite.mode == "P"
    assert {c for _, c in art.sprite.convert("RGB").getcolors()} <= GAMEBOY
    assert art.image.size == (96 * 3, 54 * 3)  # 320/96 and 180/54 round to 3
    assert art.sprite.convert("RGB").resize(art.image.size, Image.Resampling.NEAREST).tobytes() == \
        art.image.convert("RGB").tobytes()
    assert set(art.palette.colors) <= GAMEBOY


def test_cells_are_area_averages(tmp_path):
    image = Image.new("RGB", (6, 2), (0, 0, 0))
    image.paste((200, 100, 0), (0, 0, 3, 2))
    art = pixelate(image, pixel_size=(2, 1), palette="[black, (200+100+0), (100+50+0)]")
    assert np.asarray(art.sprite.convert("RGB")).reshape(-1, 3).tolist() == [[200, 100, 0], [0, 0, 0]]
    uneven = pixelate(image, pixel_size=(3, 1), palette="[black, (200+100+0), (100+50+0)]")
    assert np.asarray(uneven.sprite.convert("RGB")).reshape(-1, 3).tolist() == [[200, 100, 0], [100, 50, 0],
                                                                                 [0, 0, 0]]


def test_without_a_palette_the_image_gives_n_colours(photo):
    art = pixelate(photo, pixel_size=40, colors=6)
    assert art.sprite.size == (40, 22)  # the height follows the picture
    assert len(art.sprite.convert("RGB").getcolors()) <= 6


def test_deterministic(photo):
    a = pixelate(photo, pixel_size=32, palette="pico8", dither="floyd-steinberg")
    b = pixelate(photo, pixel_size=32, palette="pico8", dither="floyd-steinberg")
    assert a.image.tobytes() == b.image.tobytes()


def test_bad_arguments(photo):
    with pytest.raises(SettingsError, match="'dither': 'sierra' is not one of"):
        pixelate(photo, dither="sierra")
    with pytest.raises(SettingsError, match="use it with dither='none'"):
        pixelate(photo, dither="bayer2", cleanup=True)
    with pytest.raises(SettingsError, match="'pixel_size': 999x10 must be between"):
        pixelate(photo, pixel_size=(999, 10))


def test_cli_pixelate_writes_three_files_and_never_overwrites(photo, tmp_path, capsys):
    out = tmp_path / "out" / "sprite.png"
    args = ["pixelate", str(photo), str(out), "--palette", "gameboy", "--pixel_size", "96", "54"]
    assert main(args) == 0
    assert out.is_file() and (out.parent / "sprite_sprite.png").is_file() and out.with_suffix(".gpl").is_file()
    assert "96x54 cells" in capsys.readouterr().out
    before = out.read_bytes()
    assert main(args + ["--dither", "bayer2"]) == 2
    assert "already exist" in capsys.readouterr().err and out.read_bytes() == before
    assert main(args + ["--dither", "bayer2", "--overwrite"]) == 0 and out.read_bytes() != before


def test_save_refuses_non_png(photo, tmp_path):
    with pytest.raises(SettingsError, match="must be a .png"):
        save_pixel_art(pixelate(photo, pixel_size=8), tmp_path / "x.jpg")
