import pytest
from PIL import Image

from pixray import SettingsError
from pixray.palettes import BUILTIN, PaletteError, load_palette, parse_color, ramp
from pixray.settings import resolve

RUST = (0xA8, 0x3C, 0x09)  # xkcd "rust"
XKCD_RED = (0xE5, 0x00, 0x00)


@pytest.mark.parametrize("name, count, first, last", [
    ("pico8", 16, (0, 0, 0), (255, 204, 170)),
    ("PICO-8", 16, (0, 0, 0), (255, 204, 170)),
    ("gameboy", 4, (15, 56, 15), (155, 188, 15)),
    ("cga", 4, (0, 0, 0), (255, 255, 255)),
    ("ega", 16, (0, 0, 0), (255, 255, 255)),
    ("c64", 16, (0, 0, 0), (149, 149, 149)),
    ("1bit", 2, (0, 0, 0), (255, 255, 255)),
    ("grayscale4", 4, (0, 0, 0), (255, 255, 255)),
])
def test_builtin_palettes(name, count, first, last):
    palette = load_palette(name)
    assert len(palette) == count and palette.colors[0] == first and palette.colors[-1] == last


def test_nes_palette_is_the_distinct_2c02_colours():
    nes = load_palette("nes")
    assert len(nes) == len(set(nes.colors)) == 55
    assert (0x7C, 0x7C, 0x7C) in nes.colors and (0x00, 0xFC, 0xFC) in nes.colors


def test_grayscale_levels_are_even():
    assert load_palette("grayscale4").colors == ((0, 0, 0), (85, 85, 85), (170, 170, 170), (255, 255, 255))
    assert len(load_palette("gray16")) == 16
    with pytest.raises(PaletteError, match="between 2 and 256"):
        load_palette("grayscale1")


def test_pixray_dsl_ramp_and_list():
    # as in pixray, names are xkcd colours first: "red" is xkcd red #e50000
    palette = load_palette("red->rust\\8;[black,#ff0000]")
    assert list(palette.colors) == ramp([XKCD_RED, RUST], 8) + [(0, 0, 0), (255, 0, 0)]
    assert palette.colors[0] == XKCD_RED and palette.colors[7] == RUST
    assert len(load_palette("[black, #000, black, white]")) == 2  # repeats are kept once


def test_dsl_single_colour_ramps_up_from_black_with_16_by_default():
    assert load_palette("rust\\8").colors[0] == (0, 0, 0)
    assert load_palette("rust\\8").colors[-1] == RUST
    assert len(load_palette("black->red->white")) == 16
    assert load_palette("[black, white]\\3").colors == ((0, 0, 0), (128, 128, 128), (255, 255, 255))


@pytest.mark.parametrize("text, rgb", [
    ("#f00", (255, 0, 0)), ("00ff00", (0, 255, 0)), ("rust", RUST), ("xkcd:rust", RUST),
    ("(255+128+0)", (255, 128, 0)), ("[1+0.5+0]", (255, 128, 0)), ("cornflowerblue", (100, 149, 237)),
    ("pixel_green", (112, 255, 135)),
])
def test_colour_names(text, rgb):
    assert parse_color(text) == rgb


def test_unknown_colour_names_the_options():
    with pytest.raises(PaletteError, match=r"palette 'red->blorp': unknown colour 'blorp'.*pico8"):
        load_palette("red->blorp")


def test_hex_file(tmp_path):
    path = tmp_path / "p.hex"
    path.write_text("ff004d\n#00e436\n\n29adff\n")
    assert load_palette(str(path)).colors == ((255, 0, 77), (0, 228, 54), (41, 173, 255))
    path.write_text("ff004d\n00e436\nzzzzzz\n")
    with pytest.raises(PaletteError, match=rf"palette file '{path}', line 3: expected a hex colour"):
        load_palette(str(path))


def test_gpl_file(tmp_path):
    path = tmp_path / "p.gpl"
    path.write_text("GIMP Palette\nName: test\nColumns: 4\n#\n255   0   0\tred\n  0 255   0 green\n")
    assert load_palette(str(path)).colors == ((255, 0, 0), (0, 255, 0))
    path.write_text("GIMP Palette\n255 0 0\n12 300 0 bad\n")
    with pytest.raises(PaletteError, match=r"line 3: expected 'R G B \[name\]' with values 0-255, got '12 300 0 bad'"):
        load_palette(str(path))
    path.write_text("Not a palette\n")
    with pytest.raises(PaletteError, match="line 1: expected the header 'GIMP Palette'"):
        load_palette(str(path))


def test_jasc_pal_file(tmp_path):
    path = tmp_path / "p.pal"
    path.write_text("JASC-PAL\n0100\n2\n0 0 0\n255 255 255\n")
    assert load_palette(str(path)).colors == ((0, 0, 0), (255, 255, 255))
    path.write_text("JASC-PAL\n0100\n3\n0 0 0\n255 255 255\n")
    with pytest.raises(PaletteError, match="line 3: says 3 colours but 2 follow"):
        load_palette(str(path))
    path.write_text("JASC-PAL\n0100\n2\n0 0 0\n1 2\n")
    with pytest.raises(PaletteError, match="line 5: expected 'R G B'"):
        load_palette(str(path))


def test_act_file(tmp_path):
    path = tmp_path / "p.act"
    colors = bytes([10, 20, 30, 40, 50, 60, 70, 80, 90])
    path.write_bytes(colors + bytes(768 - len(colors)) + (3).to_bytes(2, "big") + b"\xff\xff")
    assert load_palette(str(path)).colors == ((10, 20, 30), (40, 50, 60), (70, 80, 90))
    path.write_bytes(colors + bytes(768 - len(colors)))  # no count: all 256 entries, zeros merge
    assert load_palette(str(path)).colors == ((10, 20, 30), (40, 50, 60), (70, 80, 90), (0, 0, 0))
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(PaletteError, match="768 or 772 bytes, this one has 100"):
        load_palette(str(path))


def test_colours_of_an_image(tmp_path):
    path = tmp_path / "few.png"
    image = Image.new("RGB", (4, 1))
    image.putdata([(255, 0, 0), (255, 0, 0), (0, 0, 255), (0, 255, 0)])
    image.save(path)
    assert load_palette(str(path)).colors[0] == (255, 0, 0)
    assert set(load_palette(str(path)).colors) == {(255, 0, 0), (0, 0, 255), (0, 255, 0)}
    many = tmp_path / "many.png"
    Image.radial_gradient("L").convert("RGB").save(many)
    assert len(load_palette(f"{many}\\8")) == 8
    assert len(load_palette(f"@{many}\\5")) == 5


def test_missing_file_and_bad_setting_fail_before_models(tmp_path):
    with pytest.raises(PaletteError, match="does not exist"):
        load_palette(str(tmp_path / "nope.gpl"))
    with pytest.raises(SettingsError, match="line 1"):
        bad = tmp_path / "bad.gpl"
        bad.write_text("hello\n")
        resolve({"prompts": "x", "palette": str(bad)})


def test_gpl_round_trip(tmp_path):
    path = tmp_path / "pico.gpl"
    path.write_text(load_palette("pico8").to_gpl())
    assert load_palette(str(path)).colors == tuple(BUILTIN["pico8"])
