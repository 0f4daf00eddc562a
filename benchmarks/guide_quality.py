"""How recognisable are the pictures the embedded guide steers? An independent judge decides.

For each prompt (written as a person would), pixray draws one 32x32 sprite with clip_models="embedded";
the judge (another architecture and seed, trained on four emoji styles the guide never saw;
benchmarks/data/judge.pt, rebuilt by `python -m pixray.guide.train --judge`) then scores the picture
against the prompts. Reports R-precision@1: how often the judge ranks the true prompt first among
20 candidates (the true one and 19 others drawn at random, averaged over 200 draws; chance 0.05) and
among all prompts (chance 1/64); the judge's mean cosine similarity to the true prompt; seconds per
sprite.

    python benchmarks/guide_quality.py [--drawers pixel sprite sprite:0] [--iterations 100] [--limit N] [--reference]

A drawer written as name:N runs N iterations instead of --iterations (sprite:0 shows the sprite
drawer's retrieval start alone, before the guide steers it).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import pixray
from pixray.guide.model import GuideModel
from pixray.images import pil_to_tensor

PROMPTS = [
    "a red apple", "a smiling sun", "a green frog", "a slice of pizza", "a rocket", "a red car", "a cat face",
    "a dog face", "a banana", "a strawberry", "a watermelon", "a cherry", "a lemon", "grapes", "a carrot",
    "a mushroom", "a birthday cake", "a doughnut", "an ice cream", "a hamburger", "a hot dog", "a taco",
    "a cup of hot coffee", "a snowman", "a christmas tree", "a house", "a castle", "a palm tree", "a cactus",
    "a sunflower", "a red rose", "a red heart", "a yellow star", "a crescent moon", "a rainbow", "a cloud",
    "a lightning bolt", "fire", "a snowflake", "a skull", "a ghost", "an alien", "a robot", "a crown",
    "a gem stone", "a key", "a light bulb", "a guitar", "a soccer ball", "a basketball", "a bicycle",
    "an airplane", "a sailboat", "a tropical fish", "an octopus", "a penguin", "a turtle", "a snake",
    "a butterfly", "a spider", "a pig face", "a unicorn", "a panda", "an owl",
]
JUDGE = Path(__file__).parent / "data" / "judge.pt"


def draw(prompt: str, drawer: str, iterations: int, seed: int, extra: dict) -> tuple[torch.Tensor, float]:
    start = time.perf_counter()
    settings = dict(clip_models="embedded", aspect="square", pixel_size=32, size=(128, 128), iterations=iterations,
                    num_cuts=16, seed=seed, save_every=0, display_every=0, outdir="outputs/guide_quality/%SEQ%")
    image = pixray.run(prompt, drawer, **{**settings, **extra})
    return pil_to_tensor(image), time.perf_counter() - start


def among_random_others(scores: torch.Tensor, true: int, others: int, draws: int, seed: int) -> float:
    """How often the true prompt outscores `others` prompts drawn at random from the rest."""
    gen = torch.Generator().manual_seed(seed)
    rest = torch.tensor([j for j in range(len(scores)) if j != true])
    if len(rest) <= others:
        return float(scores.argmax() == true)
    picks = torch.stack([rest[torch.randperm(len(rest), generator=gen)[:others]] for _ in range(draws)])
    return (scores[picks].max(1).values < scores[true]).float().mean().item()


def reference_drawer(cache: Path):
    """Draws the emoji the sprite drawer starts from, as Noto/Fluent drew it (not as the prior
    decodes it): what a perfect prior would show, so its row is the most this judge can give."""
    from pixray.guide.bank import best_entry
    from pixray.guide.prior import PRIOR_WEIGHTS, STYLES, SpritePrior
    from pixray.guide.train import as_tensor, load_styles, on_white
    from pixray.perceptors import GUIDE_WEIGHTS

    data = torch.load(PRIOR_WEIGHTS, weights_only=True)
    prior = SpritePrior.from_file(data)
    pictures = load_styles(STYLES, cache)[0]  # in the order of the prior's bank

    def draw_reference(prompt: str) -> tuple[torch.Tensor, float]:
        start = time.perf_counter()
        entry, _ = best_entry(data["bank"], prior, GUIDE_WEIGHTS, [prompt])
        return on_white(as_tensor(pictures[entry:entry + 1]), 32), time.perf_counter() - start

    return draw_reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawers", nargs="+", default=["pixel", "sprite:0", "sprite"])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--limit", type=int, default=len(PROMPTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--judge", type=Path, default=JUDGE)
    parser.add_argument("--reference", action="store_true",
                        help="add a row for the retrieved emoji pictures themselves (needs the npm emoji cache)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pixray" / "emoji")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="extra pixray settings")
    args = parser.parse_args()
    draws = 200
    torch.set_num_threads(max(1, torch.get_num_threads()))
    judge = GuideModel.from_file(torch.load(args.judge, weights_only=True))
    prompts = PROMPTS[: args.limit]
    with torch.no_grad():
        texts = judge.encode_text(prompts)
    print(f"{len(prompts)} prompts, each judged against 20 candidates ({draws} random draws) and against all; "
          f"16 cutouts, 32x32 cells; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"| drawer | R-precision@1, 20 candidates | R-precision@1, all {len(prompts)} | mean judge similarity "
          f"| s per sprite |")
    print("|---|---|---|---|---|")
    extra = dict(item.split("=", 1) for item in args.set)
    if extra:
        print(f"extra settings: {extra}")
    for row in args.drawers + (["reference"] if args.reference else []):
        drawer, _, iterations = row.partition(":")
        iterations = int(iterations) if iterations else args.iterations
        if row == "reference":
            name, draw_one = "reference: the retrieved emoji itself", reference_drawer(args.cache)
        else:
            name = f"{drawer}, {iterations} iterations"
            draw_one = functools.partial(draw, drawer=drawer, iterations=iterations, seed=args.seed, extra=extra)
        hits, hits_of_20, sims, seconds = 0, [], [], []
        for i, prompt in enumerate(prompts):
            image, took = draw_one(prompt)
            with torch.no_grad():
                small = F.interpolate(image, size=(judge.config.image_size,) * 2, mode="area")
                scores = (judge.encode_image(small) @ texts.T)[0]
            hits += int(scores.argmax()) == i
            hits_of_20.append(among_random_others(scores, i, 19, draws, seed=i))
            sims.append(float(scores[i]))
            seconds.append(took)
        print(f"| {name} | {statistics.mean(hits_of_20):.2f} | {hits / len(prompts):.2f} | "
              f"{statistics.mean(sims):.3f} | {statistics.mean(seconds):.1f} |", flush=True)


if __name__ == "__main__":
    main()
