"""Text → pixel art. python examples/text_to_pixel.py "a green frog" [--clip_models ...]"""

import argparse

import pixray

parser = argparse.ArgumentParser()
parser.add_argument("prompt", nargs="?", default="a green frog #pixelart")
parser.add_argument("--clip_models", default=None, help="default: the quality preset's")
parser.add_argument("--iterations", type=int, default=100)
parser.add_argument("--outdir", default="outputs/text_to_pixel")
args = parser.parse_args()

extra = {"clip_models": args.clip_models} if args.clip_models else {}
image = pixray.run(args.prompt, "pixel", aspect="square", pixel_size=32, quality="draft",
                   iterations=args.iterations, outdir=args.outdir, **extra)
print("done:", image.size)
