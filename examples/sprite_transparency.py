"""A game sprite with a transparent background (alpha exported as 0/255).
python examples/sprite_transparency.py "a knight with a sword" [--clip_models ...]"""

import argparse

from pixray import Session
from pixray.settings import resolve

parser = argparse.ArgumentParser()
parser.add_argument("prompt", nargs="?", default="a knight with a sword, game sprite")
parser.add_argument("--clip_models", default=None)
parser.add_argument("--iterations", type=int, default=100)
parser.add_argument("--outdir", default="outputs/sprite")
args = parser.parse_args()

extra = {"clip_models": args.clip_models} if args.clip_models else {}
settings = resolve(dict(prompts=args.prompt, drawer="pixel", transparent=True, aspect="square", pixel_size=32,
                        palette="nes", custom_loss="symmetry:0.3", quality="draft", iterations=args.iterations,
                        outdir=args.outdir, **extra))
result = Session(settings).run()
print("sprite:", result.outdir / "output_sprite.png")  # the folder actually used (a new one if outdir was taken)
