"""How recognisable are the pictures the embedded guide steers? An independent judge decides.

For each prompt, pixray draws one 32x32 picture with clip_models="embedded" and each drawer; the judge
(another architecture and seed, trained on seven emoji styles the guide never saw; benchmarks/data/judge.pt,
rebuilt by `python -m pixray.guide.train --judge`) then scores the picture against the prompts.

- Prompts are paraphrases a person would write ("a shiny red apple", "a rocket ship blasting off"),
  not the emoji names the guide learned.
- R-precision@1: how often the judge ranks the true prompt first among 20 candidates (the true one
  and 19 others drawn at random, 200 draws; chance 0.05), on the picture as drawn and after a 2x box
  downsample + 16-colour quantisation (a real picture keeps its score through that; a per-cell noise
  pattern that fools the judge does not).
- Colour words: prompts like "a blue apple"; right when the dominant hue of the picture's foreground
  (its pixels that are not near-white) has that name.
- Colour words as people name colours: the same prompts, right when the name most of the foreground's
  pixels have is the colour word: each pixel takes the name of its nearest colour (OKLab) among the
  954 of the xkcd colour survey (pixray/data/xkcd_colors.json), read by its last word ("mustard
  yellow" is yellow; "olive", "khaki", "lavender", "salmon" are not yellow, purple or red). A hue can
  be right and the colour not: a blue fish turned yellow by a hue rotation keeps its lightness and
  is olive.
- Hue spread: the entropy, in bits, of the hue histogram (12 bins of 30 degrees) of the picture's
  saturated pixels: rainbow noise spreads over every hue (about 2 bits), a drawn thing keeps to a few
  (the sprite drawer's emoji: about 0.6), whatever the judge makes of them.
- Pale fringe: the share of the picture's pixels that are pale (within 0.15 of the page's colour in
  OKLab, not the page itself) and touch the page: the pastel halos and scraps around a thing that a
  pixel artist would have left white (or drawn as a clear outline).
- A contact sheet per drawer is written to benchmarks/results/ (every prompt, labelled).

    python benchmarks/guide_quality.py [--drawers pixel line_sketch clipdraw sprite:0 sprite] [--iterations 100]
                                       [--limit N] [--reference] [--no-sheets] [--misses] [--judge J [J ...]]
                                       [--set KEY=VALUE ...] [--page COLOUR]

A drawer written as name:N runs N iterations instead of --iterations (sprite:0 shows the sprite
drawer's retrieval start alone, before the guide steers it). Several --judge files score the same
pictures, a row per judge (how a judge trained otherwise would read them; the shipped one by default).
--set passes pixray settings (transparent=true); a transparent picture is judged on a page of --page's
colour (white by default; on grey a sprite whose thing is a clear hole in white paper shows the hole).
"""

from __future__ import annotations

import argparse
import atexit
import functools
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageColor, ImageDraw

import pixray
from pixray.guide.model import GuideModel
from pixray.guide.robust import hue_spread
from pixray.images import pil_to_tensor, tensor_to_pil

# Held out: written as people write, with words the emoji names lack.
PARAPHRASES = [
    "a shiny red apple", "a happy smiling sun", "a little green frog", "a cheesy slice of pizza",
    "a rocket ship blasting off", "a fast red sports car", "a cute cat face", "a friendly dog face",
    "a ripe yellow banana", "a sweet strawberry", "a juicy slice of watermelon", "a birthday cake with candles",
    "a frosted doughnut", "an ice cream cone", "a tasty hamburger", "a snowman in winter",
    "a decorated christmas tree", "a small cottage", "a stone castle", "a desert cactus", "a bright sunflower",
    "a red love heart", "a shining yellow star", "a crescent moon at night", "a colourful rainbow",
    "a fluffy cloud", "a spooky ghost", "a friendly robot", "a golden crown", "a soccer ball",
    "a tropical fish", "a cute penguin", "a slow turtle", "a wise owl", "a spotted mushroom", "a pirate skull",
]
COLOUR_PROMPTS = [
    ("a blue apple", "blue"), ("a purple cat", "purple"), ("a green heart", "green"), ("a red star", "red"),
    ("an orange fish", "orange"), ("a pink car", "pink"), ("a yellow car", "yellow"), ("a blue heart", "blue"),
    ("a green apple", "green"), ("a red frog", "red"), ("a purple mushroom", "purple"),
    ("an orange heart", "orange"), ("a pink cat", "pink"), ("a yellow fish", "yellow"), ("a blue star", "blue"),
    ("a green star", "green"), ("a red ghost", "red"), ("a purple heart", "purple"), ("a blue cat", "blue"),
    ("a yellow heart", "yellow"),
]
JUDGE = Path(__file__).parent / "data" / "judge.pt"
RESULTS = Path(__file__).parent / "results"
SCRATCH = tempfile.mkdtemp(prefix="pixray-guide-quality-")  # the runs' own folders
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)  # the runs' folders go with the script


def draw(prompt: str, drawer: str, iterations: int, seed: int, extra: dict,
         page: str = "white") -> tuple[torch.Tensor, float]:
    start = time.perf_counter()
    settings = dict(clip_models="embedded", aspect="square", pixel_size=32, size=(128, 128), iterations=iterations,
                    num_cuts=16, seed=seed, save_every=0, display_every=0, outdir=f"{SCRATCH}/%SEQ%")
    image = pixray.run(prompt, drawer, **{**settings, **extra}).convert("RGBA")
    sheet = Image.new("RGBA", image.size, page)  # a transparent sprite as a person sees it: on a page
    sheet.alpha_composite(image)
    return pil_to_tensor(sheet.convert("RGB")), time.perf_counter() - start


def among_random_others(scores: torch.Tensor, true: int, others: int, draws: int, seed: int) -> float:
    """How often the true prompt outscores `others` prompts drawn at random from the rest."""
    gen = torch.Generator().manual_seed(seed)
    rest = torch.tensor([j for j in range(len(scores)) if j != true])
    if len(rest) <= others:
        return float(scores.argmax() == true)
    picks = torch.stack([rest[torch.randperm(len(rest), generator=gen)[:others]] for _ in range(draws)])
    return (scores[picks].max(1).values < scores[true]).float().mean().item()


def coarsened(picture: torch.Tensor) -> torch.Tensor:
    """(1,3,32,32) → the same size after a 2x box downsample and 16 colours (median cut), shown with
    nearest neighbour: what survives of a picture when its finest detail is taken away."""
    half = F.avg_pool2d(picture, 2)
    few = tensor_to_pil(half).quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return F.interpolate(pil_to_tensor(few.convert("RGB")), scale_factor=2, mode="nearest")


def page_colour(page: str) -> torch.Tensor:
    """(3,1) RGB in [0,1] of a colour name such as "white" or "grey"."""
    return torch.tensor(ImageColor.getrgb(page), dtype=torch.float32).view(3, 1) / 255


def foreground_colour(picture: torch.Tensor, page: str = "white") -> str | None:
    """The colour word of the dominant hue among the pixels that are not near the page's colour."""
    from pixray.guide.robust import dominant_colour

    alpha = ((page_colour(page)[None, :, :, None] - picture).abs().amax(1, keepdim=True) > 0.15).float()
    return dominant_colour(torch.cat([picture, alpha], 1), min_share=0.1)[0]


@functools.lru_cache(maxsize=1)
def survey_colours() -> tuple[np.ndarray, list[str]]:
    """The xkcd colour survey's colours in OKLab (N,3) and the last word of each one's name."""
    from pixray.palettes import _xkcd  # the table palettes read colour names from
    from pixray.quantize import srgb_to_oklab

    named = _xkcd()
    rgb = np.array([ImageColor.getrgb(code) for code in named.values()], dtype=np.float64) / 255
    return srgb_to_oklab(rgb), [name.split()[-1] for name in named]


def named_by_people(picture: torch.Tensor, page: str = "white") -> str | None:
    """The colour name (the last word of the nearest xkcd survey colour's name) most of the pixels that
    are not near the page's colour have; None with no such pixels."""
    from pixray.quantize import srgb_to_oklab

    pixels = picture[0].permute(1, 2, 0).reshape(-1, 3)
    pixels = pixels[(pixels - page_colour(page).view(1, 3)).abs().amax(1) > 0.15].numpy()
    if not len(pixels):
        return None
    lab, heads = survey_colours()
    nearest = ((srgb_to_oklab(pixels)[:, None] - lab[None]) ** 2).sum(-1).argmin(1)
    names, counts = np.unique([heads[i] for i in nearest], return_counts=True)
    return str(names[counts.argmax()])


def page_at_border(picture: torch.Tensor, page: str) -> float:
    """The share of the picture's outermost ring of pixels that shows the page: a transparent sprite's
    background is clear there, where white paper left opaque hides the page."""
    ring = torch.cat([picture[0, :, 0], picture[0, :, -1], picture[0, :, 1:-1, 0], picture[0, :, 1:-1, -1]], 1)
    return ((ring - page_colour(page)).abs().amax(0) < 0.03).float().mean().item()


def pale_fringe(picture: torch.Tensor, page: str = "white") -> float:
    """The share of pixels within 0.15 (OKLab) of the page's colour but more than 0.02 from it that
    touch (4-neighbours) a pixel of the page."""
    from pixray.quantize import srgb_to_oklab

    lab = srgb_to_oklab(picture[0].permute(1, 2, 0).numpy())
    away = np.linalg.norm(lab - srgb_to_oklab(page_colour(page).view(3).numpy()), axis=-1)
    blank = np.pad(away <= 0.02, 1)
    touches = blank[:-2, 1:-1] | blank[2:, 1:-1] | blank[1:-1, :-2] | blank[1:-1, 2:]
    return float(((away > 0.02) & (away <= 0.15) & touches).mean())


def contact_sheet(pictures: list[torch.Tensor], labels: list[str], title: str, path: Path,
                  columns: int = 8) -> None:
    """Every picture at 128x128 with its prompt under it, `columns` to a row."""
    cell = 128
    rows = -(-len(pictures) // columns)
    sheet = Image.new("RGB", (columns * cell, 24 + rows * (cell + 14)), "white")
    pen = ImageDraw.Draw(sheet)
    pen.text((4, 6), title, fill="black")
    for i, (picture, label) in enumerate(zip(pictures, labels)):
        x, y = (i % columns) * cell, 24 + (i // columns) * (cell + 14)
        sheet.paste(tensor_to_pil(F.interpolate(picture, size=(cell, cell), mode="nearest")), (x, y))
        pen.text((x + 2, y + cell), label[:24], fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def reference_drawer(cache: Path, lines: bool = False):
    """Draws the emoji the sprite drawer starts from, as Noto/Fluent drew it (not as the prior
    decodes it): what a perfect prior would show, so its row is the most this judge can give. With
    `lines`, its outline in black on white (pixray/tracing.py): the most it gives a line drawing."""
    from pixray.guide.bank import best_entry
    from pixray.guide.prior import PRIOR_WEIGHTS, STYLES, SpritePrior
    from pixray.guide.train import as_tensor, load_styles, on_white
    from pixray.perceptors import GUIDE_WEIGHTS
    from pixray.tracing import outline

    data = torch.load(PRIOR_WEIGHTS, weights_only=True)
    prior = SpritePrior.from_file(data)
    pictures = load_styles(STYLES, cache)[0]  # in the order of the prior's bank

    def draw_reference(prompt: str) -> tuple[torch.Tensor, float]:
        start = time.perf_counter()
        entry, _ = best_entry(data["bank"], prior, GUIDE_WEIGHTS, [prompt])
        sprite = F.interpolate(as_tensor(pictures[entry:entry + 1]), size=(32, 32), mode="area")
        if lines:
            ink = torch.from_numpy(outline(sprite)).float()
            return (1 - ink).expand(1, 3, -1, -1).contiguous(), time.perf_counter() - start
        return on_white(as_tensor(pictures[entry:entry + 1]), 32), time.perf_counter() - start

    return draw_reference


def judge_row(judge, texts, pictures: list[torch.Tensor]) -> tuple[list[float], list[float], list[float], list[int]]:
    """Per picture: R-precision@1 among 20 candidates, as drawn and coarsened; the similarity to the truth;
    and the prompt the judge ranks first among all of them, coarsened."""
    raw, coarse, sims, firsts = [], [], [], []
    with torch.no_grad():
        for i, picture in enumerate(pictures):
            scores = (judge.encode_image(picture) @ texts.T)[0]
            raw.append(among_random_others(scores, i, 19, 200, seed=i))
            sims.append(float(scores[i]))
            coarse_scores = (judge.encode_image(coarsened(picture)) @ texts.T)[0]
            coarse.append(among_random_others(coarse_scores, i, 19, 200, i))
            firsts.append(int(coarse_scores.argmax()))
    return raw, coarse, sims, firsts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawers", nargs="+", default=["pixel", "line_sketch", "clipdraw", "sprite:0", "sprite"])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--limit", type=int, default=len(PARAPHRASES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--judge", type=Path, nargs="+", default=[JUDGE],
                        help="one or more judges: each scores the same pictures (a row per judge)")
    parser.add_argument("--reference", action="store_true",
                        help="add rows for the retrieved emoji pictures themselves and their outlines (needs the "
                             "npm emoji cache)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pixray" / "emoji")
    parser.add_argument("--no-sheets", action="store_true", help="do not write contact sheets")
    parser.add_argument("--page", default="white",
                        help="the colour of the page a transparent picture is judged on (transparent=true)")
    parser.add_argument("--misses", action="store_true",
                        help="under each row, the prompts the judge reads right in fewer than half the draws, "
                             "coarsened, and what it reads first instead")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="extra pixray settings")
    args = parser.parse_args()
    warnings.simplefilter("ignore", pixray.PixrayWarning)  # "the guide does not know 'cottage'": the table says it
    torch.set_num_threads(max(1, torch.get_num_threads()))
    judges = {path: GuideModel.from_file(torch.load(path, weights_only=True)) for path in args.judge}
    sizes = {judge.config.image_size for judge in judges.values()}
    if len(sizes) > 1:
        parser.error(f"--judge: the judges see pictures of different sizes {sorted(sizes)}; give judges of one size")
    image_size = sizes.pop()
    prompts = PARAPHRASES[: args.limit]
    colour_prompts = COLOUR_PROMPTS[: args.limit]
    with torch.no_grad():
        texts = {path: judge.encode_text(prompts) for path, judge in judges.items()}
    print(f"{len(prompts)} paraphrased prompts, each judged against 20 candidates (200 random draws; chance 0.05), "
          f"as drawn and after 2x box downsample + 16 colours; {len(colour_prompts)} colour-word prompts; "
          f"32x32 cells, 16 cutouts, seed {args.seed}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    extra = dict(item.split("=", 1) for item in args.set)
    if extra:
        print(f"extra settings: {extra}, page {args.page}")
    named_judge = len(judges) > 1
    clear = "transparent" in extra  # a column for the share of the pictures' borders that shows the page
    print(f"| drawer | {'judge | ' if named_judge else ''}R@1 of 20, as drawn | R@1 of 20, downsampled + 16 colours | mean judge similarity "
          "| colour words right | as people name colours | hue spread (bits) | pale fringe | s per picture |" + (" border showing the page |" if clear else ""))
    print("|---|---|---|---|---|---|---|---|---|" + ("---|" if named_judge else "") + ("---|" if clear else ""))
    for row in args.drawers + (["reference", "reference:lines"] if args.reference else []):
        drawer, _, iterations = row.partition(":")
        if row == "reference":
            name, draw_one, stem = "reference: the retrieved emoji itself", reference_drawer(args.cache), row
        elif row == "reference:lines":
            name, draw_one = "reference: the retrieved emoji's outline", reference_drawer(args.cache, lines=True)
            stem = "reference_lines"
        else:
            iterations = int(iterations) if iterations else args.iterations
            name = f"{drawer}, {iterations} iterations"
            stem = f"{drawer}{'_' + str(iterations) if ':' in row else ''}"
            draw_one = functools.partial(draw, drawer=drawer, iterations=iterations, seed=args.seed, extra=extra,
                                         page=args.page)
        pictures, seconds = [], []
        for prompt in prompts + [p for p, _ in colour_prompts]:
            image, took = draw_one(prompt)
            pictures.append(F.interpolate(image, size=(image_size,) * 2, mode="area"))
            seconds.append(took)
        named = [foreground_colour(p, args.page) for p in pictures[len(prompts):]]
        colours = statistics.mean(float(n == want) for n, (_, want) in zip(named, colour_prompts))
        by_people = [named_by_people(p, args.page) for p in pictures[len(prompts):]]
        people = statistics.mean(float(n == want) for n, (_, want) in zip(by_people, colour_prompts))
        hues = statistics.mean(float(hue_spread(p)[0]) for p in pictures)
        fringe = statistics.mean(pale_fringe(p, args.page) for p in pictures)
        for path, judge in judges.items():
            raw, coarse, sims, firsts = judge_row(judge, texts[path], pictures[:len(prompts)])
            raw, similarity = statistics.mean(raw), statistics.mean(sims)
            misses = [f"'{prompts[i]}' ({share:.2f}: '{prompts[first]}')"
                      for i, (share, first) in enumerate(zip(coarse, firsts)) if share < 0.5]
            coarse = statistics.mean(coarse)
            print(f"| {name} | {path.stem + ' | ' if named_judge else ''}{raw:.2f} | {coarse:.2f} | {similarity:.3f} "
                  f"| {colours:.2f} | {people:.2f} | {hues:.2f} | {fringe:.3f} | {statistics.mean(seconds):.1f} |"
                  + (f" {statistics.mean(page_at_border(p, args.page) for p in pictures):.2f} |" if clear else ""),
                  flush=True)
            if args.misses:
                print(f"    misses ({len(misses)}): {'; '.join(misses)}", flush=True)
                wrong = [f"'{p}' ({b})" for (p, want), b in zip(colour_prompts, by_people) if b != want]
                print(f"    colours people would name otherwise ({len(wrong)}): {'; '.join(wrong)}", flush=True)
        if not args.no_sheets:
            labels = prompts + [f"{p[p.index(' ') + 1:]} ({n or 'grey'}, {b or '-'})"
                                for (p, _), n, b in zip(colour_prompts, named, by_people)]
            contact_sheet(pictures, labels, f"{name}: paraphrased prompts, then colour words (the hue found, "
                                            f"the colour name people give)",
                          RESULTS / f"guide_{stem}{''.join(f'_{k}' for k in extra)}{'' if args.page == 'white' else '_' + args.page}.png")


if __name__ == "__main__":
    main()
