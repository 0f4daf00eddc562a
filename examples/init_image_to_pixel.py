"""Photo → pixel art: first offline with pixray.pixelate, then refined towards a prompt.
python examples/init_image_to_pixel.py photo.jpg "a cosy cabin" [--clip_models ...]"""

import argparse
import tempfile
from pathlib import Path

import pixray
from pixray.settings import resolve

parser = argparse.ArgumentParser()
parser.add_argument("image")
parser.add_argument("prompt", nargs="?", default="a cosy cabin, pixel art")
parser.add_argument("--clip_models", default=None)
parser.add_argument("--iterations", type=int, default=60)
parser.add_argument("--outdir", default="outputs/init_image_to_pixel")
args = parser.parse_args()

# 1. no model: area-averaged cells, Game Boy palette, ordered dither
art = pixray.pixelate(args.image, pixel_size=(64, 36), palette="gameboy", dither="bayer4")

# 2. CLIP-guided refinement that stays close to the pixelated start (a new run folder; nothing is replaced)
extra = {"clip_models": args.clip_models} if args.clip_models else {}
with tempfile.TemporaryDirectory() as scratch:
    start = Path(scratch) / "pixelated_sprite.png"
    art.sprite.save(start)
    settings = resolve(dict(prompts=args.prompt, drawer="pixel", init_image=str(start), init_weight_pix=0.5,
                            pixel_size=(64, 36), size=(384, 216), palette="gameboy", palette_mode="hard",
                            quality="draft", iterations=args.iterations, outdir=args.outdir, **extra))
    result = pixray.Session(settings).run()
art.sprite.save(result.outdir / "pixelated_sprite.png")  # the offline step's result, beside the refined one
print("refined:", result.outdir / "output.png")
