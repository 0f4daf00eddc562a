"""Wide and tall canvases with the embedded guide: is the thing drawn in its own shape, and recognisable?

The guide learned one thing in a square frame and asks every cutout for the whole thing. Shown all of a
wide canvas, the pixel drawer drew the thing stretched across it; the shipped loop shows it the canvas's
centred square (perceptors.EmbeddedPerceptor.square_frame). Rows "whole canvas" switch that off.

For each prompt (the first --limit of guide_quality.PARAPHRASES), the pixel drawer draws it on a square
(32x32 cells), a wide (56x32) and a tall (32x56) canvas, 100 iterations, seed 0. Per row:
- width / height of the thing: the bounding box of the pixels that are not near-white (median over the
  prompts); the square canvas's is the thing's own shape.
- judge R@1 of 20, coarsened: the thing's bounding box, padded to a square of white, scored by the judge
  as guide_quality.py scores a picture (2x box downsample + 16 colours).
- blank sides: the share of the pixels outside the centred square that are near-white.
A contact sheet goes to benchmarks/results/wide_canvas.png.

    python benchmarks/wide_canvas.py [--limit 20] [--iterations 100]
"""

from __future__ import annotations

import argparse
import statistics
import warnings

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

import pixray
from pixray.guide.model import GuideModel
from pixray.cutouts import centre_square
from pixray.images import pil_to_tensor, tensor_to_pil
from pixray.perceptors import EmbeddedPerceptor

from guide_quality import JUDGE, PARAPHRASES, RESULTS, SCRATCH, judge_row

CANVASES = {"square": ((128, 128), (32, 32)), "wide": ((224, 128), (56, 32)), "tall": ((128, 224), (32, 56))}
ROWS = [("square", True), ("wide", False), ("wide", True), ("tall", False), ("tall", True)]


def thing_box(picture: torch.Tensor) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the pixels more than 0.15 from white in some channel."""
    ink = (1 - picture[0]).amax(0) > 0.15
    if not ink.any():
        return None
    rows, columns = ink.any(1).nonzero()[:, 0], ink.any(0).nonzero()[:, 0]
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1


def thing_on_square(picture: torch.Tensor, box, side: int) -> torch.Tensor:
    """The thing's box centred on a square of white, `side` pixels."""
    left, top, right, bottom = box
    thing = picture[..., top:bottom, left:right]
    height, width = thing.shape[-2:]
    grow_x, grow_y = max(0, height - width), max(0, width - height)
    square = F.pad(thing, (grow_x // 2, grow_x - grow_x // 2, grow_y // 2, grow_y - grow_y // 2), value=1.0)
    return F.interpolate(square, size=(side, side), mode="area")


def blank_sides(picture: torch.Tensor) -> float | None:
    """The share of near-white pixels outside the centred square (None on a square canvas)."""
    blank = (1 - picture[0]).amax(0) <= 0.15
    outside = torch.ones_like(blank)
    centre_square(outside).fill_(False)  # the very square the guide sees (a view into `outside`)
    return float(blank[outside].float().mean()) if outside.any() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    warnings.simplefilter("ignore", pixray.PixrayWarning)
    judge = GuideModel.from_file(torch.load(JUDGE, weights_only=True))
    prompts = PARAPHRASES[: args.limit]
    with torch.no_grad():
        texts = judge.encode_text(prompts)
    print(f"{len(prompts)} paraphrased prompts, pixel drawer, {args.iterations} iterations, seed 0, 16 cutouts; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| canvas | the guide sees | thing's width / height (median) | judge R@1 of 20, coarsened | blank sides |")
    print("|---|---|---|---|---|")
    sheet_rows = []
    for canvas, framed in ROWS:
        size, cells = CANVASES[canvas]
        EmbeddedPerceptor.square_frame = framed
        pictures, shapes, things, sides = [], [], [], []
        for prompt in prompts:
            image = pixray.run(prompt, "pixel", clip_models="embedded", size=size, pixel_size=cells,
                               iterations=args.iterations, num_cuts=16, seed=0, save_every=0, display_every=0,
                               outdir=f"{SCRATCH}/%SEQ%")
            picture = pil_to_tensor(image.convert("RGB"))
            box = thing_box(picture)
            pictures.append(picture)
            shapes.append((box[2] - box[0]) / (box[3] - box[1]) if box else 1.0)
            things.append(thing_on_square(picture, box, judge.config.image_size) if box else
                          F.interpolate(picture, size=(judge.config.image_size,) * 2, mode="area"))
            sides.append(blank_sides(picture))
        _, coarse, _, _ = judge_row(judge, texts, things)
        seen = "its centred square" if framed else "the whole canvas"
        if canvas == "square":
            seen = "the whole canvas (it is square)"
        blank = "—" if sides[0] is None else f"{statistics.mean(sides):.2f}"
        print(f"| {canvas} {cells[0]}x{cells[1]} | {seen} | {statistics.median(shapes):.2f} | "
              f"{statistics.mean(coarse):.2f} | {blank} |", flush=True)
        sheet_rows.append((f"{canvas}, the guide sees {seen}", pictures))
    EmbeddedPerceptor.square_frame = True
    contact_sheet(sheet_rows, prompts)


def contact_sheet(rows: list[tuple[str, list[torch.Tensor]]], prompts: list[str], columns: int = 10) -> None:
    """Each row's pictures at half their size (nearest, framed in grey), `columns` to a line, labelled."""
    cell_w, cell_h = 116, 116 + 12
    lines = -(-len(prompts) // columns)
    sheet = Image.new("RGB", (columns * cell_w, len(rows) * (18 + lines * cell_h)), "white")
    pen = ImageDraw.Draw(sheet)
    y = 0
    for title, pictures in rows:
        pen.text((4, y + 4), title, fill="black")
        y += 18
        for i, (picture, prompt) in enumerate(zip(pictures, prompts)):
            small = tensor_to_pil(F.interpolate(picture, scale_factor=0.5, mode="nearest"))
            x, top = (i % columns) * cell_w, y + (i // columns) * cell_h
            left, upper = x + (cell_w - small.width) // 2, top + (112 - small.height) // 2
            sheet.paste(small, (left, upper))
            pen.rectangle((left - 1, upper - 1, left + small.width, upper + small.height), outline="#bbb")
            pen.text((x + 2, top + 114), prompt.removeprefix("a ").removeprefix("an ")[:18], fill="black")
        y += lines * cell_h
    RESULTS.mkdir(parents=True, exist_ok=True)
    sheet.save(RESULTS / "wide_canvas.png")


if __name__ == "__main__":
    main()
