"""One prompt, several palettes and dithers. python examples/palette_dither.py [--clip_models ...]"""

import argparse

import pixray

parser = argparse.ArgumentParser()
parser.add_argument("prompt", nargs="?", default="a castle on a hill at sunset")
parser.add_argument("--clip_models", default=None)
parser.add_argument("--iterations", type=int, default=80)
parser.add_argument("--outdir", default="outputs/palette_dither")
args = parser.parse_args()

extra = {"clip_models": args.clip_models} if args.clip_models else {}
for palette, dither in [("pico8", "none"), ("pico8", "bayer4"), ("c64", "floyd-steinberg"),
                        ("black->red->yellow\\6", "atkinson")]:
    pixray.run(args.prompt, "pixel", palette=palette, dither=dither, pixel_size=(64, 36), seed=1,
               quality="draft", iterations=args.iterations, outdir=f"{args.outdir}/{palette[:5]}-{dither}", **extra)
