"""How recognisable are the pictures the embedded guide steers? An independent judge decides.

For each prompt (written as a person would), pixray draws one 32x32 sprite with clip_models="embedded";
the judge (another architecture, another seed, trained on another emoji style: Twemoji instead of
Noto; benchmarks/data/judge.pt, rebuilt by `python -m pixray.guide.train --judge`) then ranks all
prompts for that picture. Reports R-precision@1 (the true prompt ranked first among all candidates),
the judge's mean cosine similarity to the true prompt, and seconds per sprite, per drawer.

    python benchmarks/guide_quality.py [--drawers pixel sprite sprite:0] [--iterations 150] [--limit N]

A drawer written as name:N runs N iterations instead of --iterations (sprite:0 shows the sprite
drawer's retrieval start alone, before the guide steers it).
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawers", nargs="+", default=["pixel", "sprite"])
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--limit", type=int, default=len(PROMPTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="extra pixray settings")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    judge = GuideModel.from_file(torch.load(JUDGE, weights_only=True))
    prompts = PROMPTS[: args.limit]
    with torch.no_grad():
        texts = judge.encode_text(prompts)
    print(f"{len(prompts)} prompts, each judged against all {len(prompts)}; "
          f"16 cutouts, 32x32 cells; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| drawer | R-precision@1 | mean judge similarity | s per sprite |")
    print("|---|---|---|---|")
    extra = dict(item.split("=", 1) for item in args.set)
    if extra:
        print(f"extra settings: {extra}")
    for row in args.drawers:
        drawer, _, iterations = row.partition(":")
        iterations = int(iterations) if iterations else args.iterations
        hits, sims, seconds = 0, [], []
        for i, prompt in enumerate(prompts):
            image, took = draw(prompt, drawer, iterations, args.seed, extra)
            with torch.no_grad():
                small = F.interpolate(image, size=(judge.config.image_size,) * 2, mode="area")
                scores = (judge.encode_image(small) @ texts.T)[0]
            hits += int(scores.argmax()) == i
            sims.append(float(scores[i]))
            seconds.append(took)
        print(f"| {drawer}, {iterations} iterations | {hits / len(prompts):.2f} | {statistics.mean(sims):.3f} | "
              f"{statistics.mean(seconds):.1f} |", flush=True)


if __name__ == "__main__":
    main()
