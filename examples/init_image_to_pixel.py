"""Photo → pixel art: first offline with pixray.pixelate, then refined towards a prompt.
python examples/init_image_to_pixel.py photo.jpg "a cosy cabin" [--clip_models ...]"""

import argparse
from pathlib import Path

import pixray

parser = argparse.ArgumentParser()
parser.add_argument("image")
parser.add_argument("prompt", nargs="?", default="a cosy cabin, pixel art")
parser.add_argument("--clip_models", default=None)
parser.add_argument("--iterations", type=int, default=60)
parser.add_argument("--outdir", default="outputs/init_image_to_pixel")
args = parser.parse_args()

# 1. no model: area-averaged cells, Game Boy palette, ordered dither
art = pixray.pixelate(args.image, pixel_size=(64, 36), palette="gameboy", dither="bayer4")
Path(args.outdir).mkdir(parents=True, exist_ok=True)
sprite = Path(args.outdir) / "pixelated_sprite.png"
art.sprite.save(sprite)

# 2. CLIP-guided refinement that stays close to the pixelated start
extra = {"clip_models": args.clip_models} if args.clip_models else {}
pixray.run(args.prompt, "pixel", init_image=str(sprite), init_weight=0.5, pixel_size=(64, 36), size=(384, 216),
           palette="gameboy", palette_mode="hard", dither="none", quality="draft", iterations=args.iterations,
           outdir=str(Path(args.outdir) / "refined"), **extra)
