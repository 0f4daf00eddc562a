"""Does every run end as pixel art, and what does the finish cost in recognisability?

Part 1, the finish: the default offline run (sprite drawer, quality draft, as the README's main
command) and the pixel drawer (32x32 cells, 100 iterations), on the held-out paraphrased prompts of
benchmarks/guide_quality.py, with free colours (colors=0, no cleanup: what runs wrote before) and with
the finish in its variants. Per row: colours, orphan ratio (cells with no same-coloured 4-neighbour),
specks (orphans that stand out from every neighbour: stipple, not the next shade of a gradient),
half-transparent cells, jaggies (pixray.metrics), the judge's R@1 of 20 and mean similarity to the true
prompt (the independent judge of benchmarks/data/judge.pt), and seconds per picture. Rows with a fixed
palette compare the hard (straight-through) and Gumbel-softmax parametrisations.

Part 2, grid detection: sprites of the prior's bank, quantised to 16 colours, upscaled 2-12x at a
random crop offset, blurred (Gaussian, radius 0, 0.5, 1 px) and JPEG-compressed (none, 90, 70);
the share whose cell size `pixray.metrics.detect_grid` recovers exactly, and false grids on native
and resized (not upscaled) sprites.

    python benchmarks/pixel_quality.py [--limit N] [--rows NAME ...] [--grid-sprites N] [--no-sheets]
"""

from __future__ import annotations

import argparse
import atexit
import io
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
from pixray.guide.model import GuideModel
from pixray.images import pil_to_tensor
from pixray.metrics import detect_grid
from pixray.session import Session
from pixray.settings import resolve

from guide_quality import JUDGE, PARAPHRASES, RESULTS, among_random_others, contact_sheet

SCRATCH = tempfile.mkdtemp(prefix="pixray-pixel-quality-")
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)  # the runs' folders go with the script
DEFAULT_RUN = dict(clip_models="embedded", drawer="sprite", quality="draft", aspect="square")
PIXEL_RUN = dict(clip_models="embedded", drawer="pixel", aspect="square", pixel_size=32, size=(128, 128),
                 iterations=100, num_cuts=16)
FREE = dict(colors=0, cleanup=False)
ROWS = {
    "default, free colours (before)": {**DEFAULT_RUN, **FREE},
    "default, 16 colours fitted during the run + cleanup": {**DEFAULT_RUN, "colors_fit": "during"},
    "default, 16 colours fitted at the end + cleanup (now)": DEFAULT_RUN,
    "default, pico8 soft (before: the default palette_mode)": {**DEFAULT_RUN, "palette": "pico8",
                                                               "palette_mode": "soft"},
    "default, pico8 at the export (now: the default)": {**DEFAULT_RUN, "palette": "pico8"},
    "default, gameboy by nearest colour (before)": {**DEFAULT_RUN, "palette": "gameboy", "palette_space": "oklab"},
    "default, gameboy by lightness (now: auto)": {**DEFAULT_RUN, "palette": "gameboy"},
    "pixel, free colours": {**PIXEL_RUN, **FREE},
    "pixel, 16 colours during + cleanup": {**PIXEL_RUN, "colors_fit": "during"},
    "pixel, 16 colours at the end + cleanup (now)": PIXEL_RUN,
    "pixel, pico8 soft (before: the default palette_mode)": {**PIXEL_RUN, "palette": "pico8", "palette_mode": "soft"},
    "pixel, pico8 soft, palette_weight 0.3": {**PIXEL_RUN, "palette": "pico8", "palette_mode": "soft",
                                              "palette_weight": 0.3},
    "pixel, pico8 soft, palette_weight 0.1": {**PIXEL_RUN, "palette": "pico8", "palette_mode": "soft",
                                              "palette_weight": 0.1},
    "pixel, pico8 at the export (now: the default)": {**PIXEL_RUN, "palette": "pico8"},
    "pixel, gameboy by nearest colour (before)": {**PIXEL_RUN, "palette": "gameboy", "palette_space": "oklab"},
    "pixel, gameboy by lightness (now: auto)": {**PIXEL_RUN, "palette": "gameboy"},
    "pixel, pico8 hard (straight-through)": {**PIXEL_RUN, "palette": "pico8", "palette_mode": "hard"},
    "pixel, pico8 gumbel-softmax": {**PIXEL_RUN, "palette": "pico8", "palette_mode": "gumbel"},
}


def run_row(settings: dict, prompts: list[str], seed: int):
    sprites, metrics, seconds = [], [], []
    for prompt in prompts:
        start = time.perf_counter()
        session = Session(resolve({**settings, "prompts": prompt, "seed": seed, "save_every": 0,
                                   "display_every": 0, "outdir": f"{SCRATCH}/%SEQ%"}))
        result = session.run()
        seconds.append(time.perf_counter() - start)
        sprites.append(pil_to_tensor(result.sprite.convert("RGB")))
        metrics.append(result.metrics)
    return sprites, metrics, seconds


def judge_scores(judge, texts, sprites) -> tuple[float, float]:
    """R@1 of 20 (200 random draws of 19 other prompts) and the mean similarity to the true prompt."""
    hits, sims = [], []
    with torch.no_grad():
        for i, sprite in enumerate(sprites):
            picture = F.interpolate(sprite, size=(judge.config.image_size,) * 2, mode="area")
            scores = (judge.encode_image(picture) @ texts.T)[0]
            hits.append(among_random_others(scores, i, 19, 200, seed=i))
            sims.append(float(scores[i]))
    return statistics.mean(hits), statistics.mean(sims)


def finish_table(args) -> None:
    judge = GuideModel.from_file(torch.load(JUDGE, weights_only=True))
    prompts = PARAPHRASES[: args.limit]
    with torch.no_grad():
        texts = judge.encode_text(prompts)
    print(f"{len(prompts)} paraphrased prompts, seed {args.seed}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print("| run | colours (mean / max) | orphan ratio (mean / max) | specks (mean / max) | half-transparent "
          "| jaggies (mean) | judge R@1 of 20 | judge similarity | s per picture |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, settings in ROWS.items():
        if args.rows and not any(part in name for part in args.rows):
            continue
        sprites, metrics, seconds = run_row(settings, prompts, args.seed)
        hits, similarity = judge_scores(judge, texts, sprites)
        colours = [m["colors"] for m in metrics]
        orphans = [m["orphan_ratio"] for m in metrics]
        specks = [m["speckle_ratio"] for m in metrics]
        print(f"| {name} | {statistics.mean(colours):.1f} / {max(colours)} | {statistics.mean(orphans):.3f} / "
              f"{max(orphans):.3f} | {statistics.mean(specks):.3f} / {max(specks):.3f} | {sum(m['partial_alpha'] for m in metrics)} | "
              f"{statistics.mean(m['jaggies'] for m in metrics):.1f} | {hits:.2f} | {similarity:.3f} | "
              f"{statistics.mean(seconds):.1f} |", flush=True)
        if not args.no_sheets:
            slug = "".join(c if c.isalnum() else "_" for c in name.split(" (")[0])[:48].strip("_")
            contact_sheet(sprites, prompts, name, RESULTS / f"pixel_{slug}.png")


def bank_sprites(count: int) -> list[Image.Image]:
    """`count` sprites decoded from the prior's bank and quantised to 16 colours: pixel art to upscale."""
    from pixray.guide.bank import on_paper
    from pixray.guide.prior import PRIOR_WEIGHTS, SpritePrior
    from pixray.palette_fit import fit_palette
    from pixray.quantize import quantize

    data = torch.load(PRIOR_WEIGHTS, weights_only=True)
    prior = SpritePrior.from_file(data)
    latents = data["bank"]["latents"]
    index = torch.linspace(0, len(latents) - 1, count).long()
    with torch.no_grad():
        pictures = on_paper(prior.decode(latents[index].float()))
    sprites = []
    for picture in pictures:
        rgb = (picture.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        palette = fit_palette(rgb.reshape(-1, 3), 16)
        sprites.append(Image.fromarray(palette[quantize(rgb, palette)]))
    return sprites


def degrade(sprite: Image.Image, scale: int, blur: float, quality: int | None, rng) -> Image.Image:
    big = sprite.resize((sprite.width * scale, sprite.height * scale), Image.Resampling.NEAREST)
    dx, dy = (int(v) for v in rng.integers(0, scale, 2))
    big = big.crop((dx, dy, big.width, big.height))
    if blur:
        big = big.filter(ImageFilter.GaussianBlur(blur))
    if quality:
        buffer = io.BytesIO()
        big.save(buffer, "JPEG", quality=quality)
        big = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return big


def grid_table(args) -> None:
    sprites = bank_sprites(args.grid_sprites)
    rng = np.random.default_rng(args.seed)
    found: dict[tuple, list[bool]] = {}
    start = time.perf_counter()
    for sprite in sprites:
        for scale in range(2, 13):
            for blur in (0, 0.5, 1.0):
                for quality in (None, 90, 70):
                    cell = detect_grid(degrade(sprite, scale, blur, quality, rng)).cell
                    found.setdefault((blur, quality, blur <= scale / 4), []).append(cell == scale)
    seconds = (time.perf_counter() - start) / sum(len(v) for v in found.values())
    natives = sprites + [s.resize((48, 48), Image.Resampling.BILINEAR) for s in sprites] + \
        [s.resize((80, 80), Image.Resampling.BICUBIC) for s in sprites]
    false = sum(detect_grid(s).cell != 1 for s in natives)
    print(f"\n{len(sprites)} sprites x scales 2-12 at a random crop offset; {seconds:.2f} s per picture")
    print("| blur radius | JPEG | blur at most a quarter cell | exact cell size found |")
    print("|---|---|---|---|")
    for (blur, quality, mild), hits in sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1] or 101, kv[0][2])):
        print(f"| {blur} | {quality or 'no'} | {'yes' if mild else 'no'} | {np.mean(hits):.3f} ({len(hits)}) |")
    mild = [h for (blur, q, m), hits in found.items() if m for h in hits]
    print(f"| all with blur at most a quarter cell | | | {np.mean(mild):.3f} ({len(mild)}) |")
    print(f"false grids on {len(natives)} native or resized (not upscaled) sprites: {false}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", nargs="*", default=[], help="only rows whose name contains one of these")
    parser.add_argument("--grid-sprites", type=int, default=12, help="sprites for part 2 (0: skip it, as --skip-grid)")
    parser.add_argument("--skip-finish", action="store_true")
    parser.add_argument("--skip-grid", action="store_true")
    parser.add_argument("--no-sheets", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", pixray.PixrayWarning)
    if not args.skip_finish:
        finish_table(args)
    if not args.skip_grid and args.grid_sprites > 0:
        grid_table(args)


if __name__ == "__main__":
    main()
