"""Colour words on things that have no colour of their own: "a red ghost", "a pink skull".

The sprite drawer recolours its start by a hue rotation, which cannot colour white or grey: "a red ghost"
stayed a white ghost with a red tongue (and guide_quality.py's colour row counted it right, by the
tongue). Since session 20 a sprite with too little colour has the named colour multiplied in
(guide/bank.py: best_tint); the pixel drawer's picture targets too. This script draws colourless things
(and two coloured controls, which a rotation recolours) with the sprite and pixel drawers, with and
without the tint, and prints the share of each picture's foreground (pixels not near the white page) in
the named colour. Contact sheet: benchmarks/results/colourless.png.

    python benchmarks/colourless.py [--iterations 100] [--seed 0]
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import statistics
import tempfile
import warnings
from pathlib import Path

import torch

import pixray
from guide_quality import RESULTS, contact_sheet, page_colour
from pixray.guide import bank
from pixray.guide.robust import COLOURS, colour_counts
from pixray.images import pil_to_tensor

# Written before measuring: things whose emoji are white, grey or black and white; then two controls.
PROMPTS = [("a red ghost", "red"), ("a blue ghost", "blue"), ("a pink skull", "pink"), ("a green cloud", "green"),
           ("a purple snowman", "purple"), ("a yellow penguin", "yellow"), ("an orange soccer ball", "orange"),
           ("a blue robot", "blue"), ("a green panda", "green"), ("a red bone", "red"),
           ("a blue apple", "blue"), ("a purple frog", "purple")]
CONTROLS = 2  # the last ones: coloured emoji, which the hue rotation recolours and the tint leaves alone
SCRATCH = tempfile.mkdtemp(prefix="pixray-colourless-")
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)  # the runs' folders go with the script


def share_in_colour(picture: torch.Tensor, colour: str) -> float:
    """The share of the (1,3,H,W) picture's foreground (pixels more than 0.15 from white) in `colour`."""
    foreground = ((page_colour("white")[None, :, :, None] - picture).abs().amax(1, keepdim=True) > 0.15).float()
    counts, opaque = colour_counts(torch.cat([picture, foreground], 1))
    return float(counts[0, COLOURS.index(colour)] / opaque[0].clamp_min(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(2)
    tint_below = bank.TINT_BELOW
    rows, pictures, labels = [], [], []
    for drawer in ["sprite", "pixel"]:
        for tint in [False, True]:
            bank.TINT_BELOW = tint_below if tint else 0.0  # 0: no sprite has too little colour
            shares = []
            for prompt, colour in PROMPTS:
                image = pixray.run(prompt, drawer, clip_models="embedded", aspect="square", pixel_size=32,
                                   size=(128, 128), iterations=args.iterations, num_cuts=16, seed=args.seed,
                                   save_every=0, display_every=0, outdir=f"{SCRATCH}/%SEQ%")
                picture = torch.nn.functional.interpolate(pil_to_tensor(image.convert("RGB")), size=(32, 32),
                                                          mode="area")
                shares.append(share_in_colour(picture, colour))
                pictures.append(picture)
                labels.append(f"{shares[-1]:.2f} {prompt}")
            name = f"{drawer}, {'tinted' if tint else 'hue rotation only'}"
            rows.append((name, shares))
    bank.TINT_BELOW = tint_below
    print(f"share of the foreground in the named colour; {args.iterations} iterations, seed {args.seed}")
    print("| drawer | colourless things (" + str(len(PROMPTS) - CONTROLS) + "), mean | of them ≥ 0.5 | controls ("
          + str(CONTROLS) + "), mean |")
    print("|---|---|---|---|")
    for name, shares in rows:
        things, controls = shares[:-CONTROLS], shares[-CONTROLS:]
        print(f"| {name} | {statistics.mean(things):.2f} | {sum(s >= 0.5 for s in things)} | "
              f"{statistics.mean(controls):.2f} |")
    names = [name for name, _ in rows]
    contact_sheet(pictures, labels, "rows of " + str(len(PROMPTS)) + ": " + "; ".join(names) +
                  " (share of the foreground in the colour)", RESULTS / "colourless.png", columns=len(PROMPTS))


if __name__ == "__main__":
    main()
