"""Every bad input a new user might type: one line naming the setting, exit status 2, no traceback,
nothing written anywhere (the working folder and a file beside it stay exactly as they were)."""

import struct
import zlib
from pathlib import Path

import pytest

from pixray.cli import main

from .conftest import TINY

DATA = Path(__file__).parent / "data"


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that claims a huge size (the pixels are never decoded: the size alone must be refused)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
                     + chunk(b"IEND", b""))


@pytest.fixture
def files(tmp_path):
    """Bad files of every kind, in a folder of their own; `victim` is a user's file beside the run."""
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "folder.png").mkdir()
    (folder / "folder.hex").mkdir()
    (folder / "text.png").write_text("not an image")
    (folder / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (folder / "broken.yaml").write_text("prompts: a cat\niterations: [1, 2\n")
    (folder / "unknown.yaml").write_text("prompts: a cat\nno_such_key: 3\n")
    (folder / "a_file").write_text("a file, not a folder")
    (folder / "big.hex").write_text("ff0000\n" * 200_000)
    (folder / "bad.gpl").write_text("Not A Palette\n")
    (folder / "junk.bin").write_bytes(b"\x80\x02junk" * 100)
    (folder / "junk.ckpt").write_bytes(b"\x80\x02junk" * 100)
    (folder / "config_only.yaml").write_text("model: {}\n")
    _png_header_only(folder / "huge.png", 20000, 20000)
    _png_header_only(folder / "large.png", 11000, 10000)
    victim = tmp_path / "victim.png"
    victim.write_bytes(b"the user's picture")
    return folder


F = "{files}"
CASES = [
    # non-finite and out-of-range numbers
    (["--iterations", "inf"], "iterations"), (["--iterations", "nan"], "iterations"),
    (["--num_cuts", "inf"], "num_cuts"), (["--learning_rate", "nan"], "learning_rate"),
    (["--learning_rate", "inf"], "learning_rate"), (["--learning_rate", "-1"], "learning_rate"),
    (["--stroke_length", "nan"], "stroke_length"), (["--min_stroke_width", "nan"], "min_stroke_width"),
    (["--max_stroke_width", "inf"], "max_stroke_width"), (["--scale", "nan"], "scale"),
    (["--scale", "100"], "scale"), (["--pixel_scale", "nan"], "pixel_scale"),
    (["--init_weight", "inf"], "init_weight"), (["--init_clip_weight", "nan"], "init_clip_weight"),
    (["--palette_weight", "inf"], "palette_weight"), (["--init_image_alpha", "300"], "init_image_alpha"),
    (["--video_fps", "0"], "video_fps"), (["--save_every", "-1"], "save_every"), (["--strokes", "0"], "strokes"),
    (["--seed", "1", "--display_every", "nan"], "display_every"),
    (["--learning_rate_drops", "0"], "learning_rate_drops"), (["--learning_rate_drops", "100"], "learning_rate_drops"),
    (["--learning_rate_drops", "nan"], "learning_rate_drops"),
    # prompts and losses
    (["--prompts", "apple:inf"], "prompts"), (["--prompts", "apple:1:nan"], "prompts"),
    (["--prompts", ":0.5"], "prompts"), (["--prompts", ""], "prompts"),
    (["--image_prompts", "x.png:inf"], "image_prompts"),
    (["--custom_loss", "symmetry:nan"], "custom_loss"), (["--custom_loss", "symmetry:inf"], "custom_loss"),
    (["--custom_loss", "nosuch"], "custom_loss"),
    (["--custom_loss", "edge", "--edge_color", "notacolour"], "edge_color"),
    (["--init_weight", "1"], "init_weight"),
    # sizes
    (["--size", "100000", "100000"], "size"), (["--size", "0", "10"], "size"), (["--size", "inf", "10"], "size"),
    (["--size", "5000", "5000"], "size"), (["--pixel_size", "0", "0"], "pixel_size"),
    (["--pixel_size", "100", "100", "--size", "64", "64"], "pixel_size"),
    # where files go
    (["--output", "../victim.png"], "output"), (["--output", "{tmp}/victim.png"], "output"),
    (["--output", "sub/../x.png"], "output"), (["--output", "sub\\\\x.png"], "output"), (["--output", "x.jpg"], "output"), (["--output", ".."], "output"),
    (["--outdir", ""], "outdir"), (["--outdir", F + "/a_file/run"], "outdir"),
    (["--outdir", "/proc/pixray-run"], "outdir"),
    # files that are not what they should be
    (["--config", F], "config"), (["--config", F + "/binary.yaml"], "config"),
    (["--config", F + "/broken.yaml"], "at line 3"), (["--config", F + "/missing.yaml"], "config"),
    (["--config", F + "/unknown.yaml"], "no_such_key"),
    (["--init_image", F + "/folder.png"], "init_image"), (["--init_image", F + "/text.png"], "init_image"),
    (["--init_image", F + "/missing.png"], "init_image"), (["--init_image", F + "/huge.png"], "init_image"),
    (["--init_image", F + "/large.png"], "init_image"),
    (["--image_prompts", F + "/text.png"], "image_prompts"), (["--image_prompts", F + "/folder.png"], "image_prompts"),
    (["--palette", F + "/folder.hex"], "palette"), (["--palette", F + "/text.png"], "palette"),
    (["--palette", F + "/big.hex"], "palette"), (["--palette", "red\\1000"], "palette"),
    (["--palette", F + "/bad.gpl"], "palette"), (["--palette", F + "/huge.png\\8"], "palette"),
    (["--clip_models", "pixray-tiny:" + F + "/junk.bin"], "clip_models"),
    (["--clip_models", "ViT-Q/99"], "clip_models"), (["--clip_models", "ViT-B-32:/no/such.pt"], "clip_models"),
    (["--drawer", "vqgan", "--vqgan_config", str(DATA / "taming_tiny.yaml"), "--vqgan_checkpoint",
      F + "/junk.ckpt"], "vqgan_checkpoint"),
    (["--drawer", "vqgan", "--vqgan_checkpoint", "random", "--vqgan_model", "nosuch"], "vqgan_checkpoint"),
    (["--drawer", "vqgan", "--vqgan_config", F + "/config_only.yaml"], "vqgan_config"),
    # choices, combinations and flags
    (["--drawer", "oil"], "drawer"), (["--quality", "ultra"], "quality"), (["--device", "tpu"], "device"),
    (["--aspect", "round"], "aspect"), (["--palette_space", "hsv"], "palette_space"),
    (["--dither", "sierra"], "dither"), (["--pixel_type", "knot"], "pixel_type"),
    (["--palette_mode", "hard", "--drawer", "clipdraw", "--palette", "pico8"], "palette_mode"),
    (["--transparent", "--drawer", "clipdraw"], "transparent"),
    (["--no_such_flag", "3"], "no_such_flag"), (["--filterz", "wallpaper"], "filterz"),
    # pixray pixelate
    (["pixelate", F + "/missing.png", "out.png"], "input"), (["pixelate", F + "/folder.png", "out.png"], "input"),
    (["pixelate", str(DATA / "twemoji" / "1f34e.png"), "out.jpg"], "output"),
    (["pixelate", str(DATA / "twemoji" / "1f34e.png"), "out.png", "--scale", "100000"], "scale"),
    (["pixelate", str(DATA / "twemoji" / "1f34e.png"), "out.png", "--colors", "1000"], "colors"),
    (["pixelate", str(DATA / "twemoji" / "1f34e.png"), "out.png", "--pixel_size", "0"], "pixel_size"),
]


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def test_there_are_enough_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("args, named", CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_bad_input_is_one_clear_line(args, named, files, tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    args = [a.replace(F, str(files)).replace("{tmp}", str(tmp_path)) for a in args]
    if args[0] != "pixelate":
        args = args + (["--prompts", "a red apple"] if "--prompts" not in args else [])
        args += ["--clip_models", TINY] if "--clip_models" not in args else []
        args += ["--iterations", "1"] if "--iterations" not in args else []
        args += ["--num_cuts", "1"] if "--num_cuts" not in args else []
    before = _tree(tmp_path)
    try:
        code = main(args)
    except SystemExit as stop:  # argparse's own checks (choices)
        code = stop.code
    out, err = capsys.readouterr()
    # a file found bad only when its model loads comes after the one "loading" line
    lines = [line for line in err.strip().splitlines() if not line.startswith("pixray: loading ")]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("pixray: error:"), err
    assert named in lines[0], lines[0]
    assert "Traceback" not in err + out and "weights_only=False" not in err
    assert _tree(tmp_path) == before  # nothing written, nothing replaced
