"""Does line_sketch draw an init image's lines, and keep to them while the embedded guide steers?

For each of the 36 paraphrases of benchmarks/guide_quality.py, a "photo": the emoji the prompt retrieves
as Twemoji drew it (a style the guide never learned), on a pale page, blurred. line_sketch draws it with
the embedded guide (init_image, 160x160, the prompt; 32 strokes of 5 pixels). Each picture is scored on
cells of 5 pixels against the true lines of the sharp picture (pixray/tracing.py: outline, the
silhouette and the borders between its colours, the lines a person would trace):
- lines drawn: the share of the true line cells that are inked (at least a quarter dark);
- ink on the lines: the share of inked cells within one cell of a true line;
- pieces: separate pieces of ink (8-connected pixels) per picture: dashes make more, blots fewer;
- the judge's R@1 among 20 (as guide_quality.py; it reads line art poorly: the real emoji's outlines
  score 0.24 there, so it says little here).
Rows: the start (0 iterations) with the photo's lines found in its top 10 % or 20 % of colour change
(tracing.EDGE_SHARE), the guide steering without the trace loss (session 16) and with it (the default
now). Contact sheet: benchmarks/results/init_lines.png (photo, its true lines, start, without, with).

    python benchmarks/init_lines.py [--limit N] [--iterations 100] [--no-sheet]
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter

import pixray
from guide_quality import JUDGE, PARAPHRASES, RESULTS, contact_sheet, judge_row
from pixray.guide.model import GuideModel
from pixray.images import pil_to_tensor
import pixray.tracing
from pixray.tracing import outline

SIZE = 160
CELL = 5  # line_sketch's one stroke width (max_stroke_width), the cell of an init image's lines
SPRITE, AT = 120, 20  # the thing's side and place in the photo, in pixels: on whole cells
PAGE = (214, 226, 236)  # a pale blue page: the thing's rim is a colour change, as in a photo
SCRATCH = tempfile.mkdtemp(prefix="pixray-init-lines-")
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)  # the runs' folders go with the script


def photos(prompts: list[str], cache: Path) -> tuple[list[Path], list[np.ndarray]]:
    """The Twemoji picture of the emoji each prompt retrieves, on PAGE, blurred, as a PNG file; and the
    true lines of the sharp picture, (SIZE // CELL,) * 2 cells."""
    from pixray.guide.bank import best_entry
    from pixray.guide.prior import PRIOR_WEIGHTS, STYLES, SpritePrior
    from pixray.guide.train import load_styles, prepare
    from pixray.perceptors import GUIDE_WEIGHTS

    data = torch.load(PRIOR_WEIGHTS, weights_only=True)
    prior, bank = SpritePrior.from_file(data), data["bank"]
    bank_codes = load_styles(STYLES, cache)[2]  # the emoji of each bank entry, in the bank's order
    twemoji, _, twemoji_codes = prepare("twitter", cache)
    where = {code: i for i, code in enumerate(twemoji_codes)}
    paths, true_lines = [], []
    for n, prompt in enumerate(prompts):
        entry, _ = best_entry(bank, prior, GUIDE_WEIGHTS, [prompt])
        sprite = Image.fromarray(twemoji[where[bank_codes[entry]]]).convert("RGBA")
        sprite = sprite.resize((SPRITE, SPRITE), Image.Resampling.BICUBIC)
        framed = Image.new("RGBA", (SIZE, SIZE), PAGE + (255,))
        framed.alpha_composite(sprite, (AT, AT))
        path = Path(SCRATCH) / f"photo{n}.png"
        framed.convert("RGB").filter(ImageFilter.GaussianBlur(2)).save(path)
        paths.append(path)
        cells = F.interpolate(pil_to_tensor(sprite, "RGBA"), size=(SPRITE // CELL,) * 2, mode="area")
        lines = np.zeros((SIZE // CELL,) * 2, bool)
        lines[AT // CELL:(AT + SPRITE) // CELL, AT // CELL:(AT + SPRITE) // CELL] = outline(cells)
        true_lines.append(lines)
    return paths, true_lines


def near(cells: np.ndarray) -> np.ndarray:
    """The cells within one cell (8 neighbours) of a true one."""
    grown = F.max_pool2d(torch.from_numpy(cells).float()[None, None], 3, stride=1, padding=1)
    return grown[0, 0].numpy() > 0


def pieces(ink: np.ndarray) -> int:
    """The number of 8-connected pieces of true pixels."""
    unseen, count = set(zip(*np.nonzero(ink))), 0
    while unseen:
        count += 1
        todo = [unseen.pop()]
        while todo:
            y, x = todo.pop()
            for step in ((y + dy, x + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)):
                if step in unseen:
                    unseen.discard(step)
                    todo.append(step)
    return count


def scores(picture: torch.Tensor, lines: np.ndarray) -> tuple[float, float, int]:
    """Lines drawn, ink on the lines, pieces of ink: the picture (1,3,SIZE,SIZE) against line cells."""
    rows, columns = lines.shape
    ink = F.adaptive_avg_pool2d(1 - picture.mean(1, keepdim=True), (rows, columns))[0, 0].numpy() > 0.25
    drawn = (lines & ink).sum() / max(1, lines.sum())
    on_lines = (ink & near(lines)).sum() / max(1, ink.sum())
    return float(drawn), float(on_lines), pieces(picture[0].mean(0).numpy() < 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=len(PARAPHRASES))
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pixray" / "emoji")
    parser.add_argument("--no-sheet", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", pixray.PixrayWarning)
    prompts = PARAPHRASES[: args.limit]
    judge = GuideModel.from_file(torch.load(JUDGE, weights_only=True))
    with torch.no_grad():
        texts = judge.encode_text(prompts)
    files, lines = photos(prompts, args.cache)
    rows = [("the start, lines in the top 10 % of change, 0 iterations", 0.1, 0, {}),
            ("the guide steering that start, no trace loss (session 16)", 0.1, args.iterations, {"custom_loss": []}),
            ("the start, lines in the top 20 %, 0 iterations", 0.2, 0, {}),
            ("the guide steering, no trace loss", 0.2, args.iterations, {"custom_loss": []}),
            ("the guide steering with the trace loss (default now)", 0.2, args.iterations, {})]
    print(f"{len(prompts)} photos (Twemoji on a page, blurred), line_sketch {SIZE}x{SIZE} with the embedded guide, "
          f"seed {args.seed}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| line_sketch on an init image | lines drawn | ink on the lines | pieces of ink | judge R@1 as drawn "
          "| coarsened | s per picture |")
    print("|---|---|---|---|---|---|---|")
    drawn_by_row = []
    for name, share, iterations, extra in rows:
        pixray.tracing.EDGE_SHARE = share
        pictures, found, seconds = [], [], []
        for prompt, file, photo_lines in zip(prompts, files, lines):
            start = time.perf_counter()
            image = pixray.run(prompt, "line_sketch", clip_models="embedded", init_image=str(file),
                               size=(SIZE, SIZE), iterations=iterations, seed=args.seed, save_every=0,
                               display_every=0, outdir=f"{SCRATCH}/%SEQ%", **extra)
            seconds.append(time.perf_counter() - start)
            picture = pil_to_tensor(image.convert("RGB"))
            pictures.append(picture)
            found.append(scores(picture, photo_lines))
        small = [F.interpolate(p, size=(judge.config.image_size,) * 2, mode="area") for p in pictures]
        raw, coarse, _, _ = judge_row(judge, texts, small)
        print(f"| {name} | {statistics.mean(f[0] for f in found):.2f} | {statistics.mean(f[1] for f in found):.2f} "
              f"| {statistics.mean(f[2] for f in found):.1f} | {statistics.mean(raw):.2f} | {statistics.mean(coarse):.2f} | "
              f"{statistics.mean(seconds):.1f} |", flush=True)
        drawn_by_row.append(pictures)
    if not args.no_sheet:
        shown, labels = [], []
        for n, prompt in enumerate(prompts):
            true = torch.from_numpy(1 - lines[n].astype(np.float32)).expand(1, 3, -1, -1)
            shown += [pil_to_tensor(Image.open(files[n]).convert("RGB")), true] + [drawn_by_row[i][n] for i in (2, 3, 4)]
            labels += [prompt, "true lines", "start (20 %)", "no trace", "trace (default)"]
        contact_sheet(shown, labels, "line_sketch on an init image: photo, its true lines, the start, steered without / "
                      "with the trace loss", RESULTS / "init_lines.png", columns=5)


if __name__ == "__main__":
    main()
