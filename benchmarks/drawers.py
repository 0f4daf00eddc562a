"""Per drawer: seconds per iteration of the full loop and peak RSS; and the stroke rasteriser alone
(256 strokes, forward+backward) at 224x224 and 480x270. Each case runs in its own process so its
peak RSS is its own. Run: python benchmarks/drawers.py [--iterations N]

VQGAN uses the imagenet_f16_16384 architecture with random weights (same compute as the real one).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

F16_16384 = {"model": {"target": "taming.models.vqgan.VQModel", "params": {
    "embed_dim": 256, "n_embed": 16384,
    "ddconfig": {"double_z": False, "z_channels": 256, "resolution": 256, "in_channels": 3, "out_ch": 3,
                 "ch": 128, "ch_mult": [1, 1, 2, 2, 4], "num_res_blocks": 2, "attn_resolutions": [16],
                 "dropout": 0.0}}}}


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def loop_case(drawer: str, iterations: int, cuts: int) -> dict:
    from pixray.session import Session
    from pixray.settings import resolve

    values = dict(prompts="a lighthouse at night", drawer=drawer, clip_models="ViT-B-32:random", num_cuts=cuts,
                  iterations=10 ** 6, seed=0, device="cpu")
    if drawer == "vqgan":
        config = Path(tempfile.mkdtemp()) / "f16_16384.yaml"
        config.write_text(yaml.safe_dump(F16_16384))
        values.update(vqgan_config=str(config), vqgan_checkpoint="random")
    session = Session(resolve(values))
    session.step()
    start = time.perf_counter()
    for _ in range(iterations):
        session.step()
    size = "x".join(map(str, session.settings.size))
    return dict(case=f"{drawer} loop ({size}, cutn {cuts})", seconds=(time.perf_counter() - start) / iterations,
                rss=peak_rss_gb())


def raster_case(width: int, height: int, iterations: int) -> dict:
    import torch

    from pixray.vector import patch_size, rasterize

    generator = torch.Generator().manual_seed(0)
    count, stroke_length, max_width = 256, 0.1, 5.0
    radius = stroke_length * max(width, height) / 2
    anchors = torch.rand(count, 1, 2, generator=generator) * torch.tensor([width, height])
    control = (anchors + (torch.rand(count, 7, 2, generator=generator) - 0.5) * radius).requires_grad_()
    widths = (1 + 4 * torch.rand(count, generator=generator)).requires_grad_()
    colors = torch.rand(count, 4, generator=generator).requires_grad_()
    patch = patch_size(2 * radius, max_width)

    def step():
        rasterize(control, widths, colors, (width, height), torch.ones(3), patch).square().mean().backward()

    step()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    return dict(case=f"raster 256 strokes {width}x{height} fwd+bwd", seconds=(time.perf_counter() - start) / iterations,
                rss=peak_rss_gb())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--cuts", type=int, default=8)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, _, arg = args.one.partition(":")
        if kind == "raster":
            w, h = map(int, arg.split("x"))
            print(json.dumps(raster_case(w, h, args.iterations)))
        else:
            print(json.dumps(loop_case(arg, args.iterations, args.cuts)))
        return
    import torch
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; {args.iterations} timed iterations "
          f"after 1 warm-up; each row in a fresh process")
    print("| case | s/iter | peak RSS GB |")
    print("|---|---|---|")
    for one in ["raster:224x224", "raster:480x270", "loop:pixel", "loop:sprite", "loop:line_sketch", "loop:clipdraw",
                "loop:vqgan"]:
        out = subprocess.run([sys.executable, __file__, "--one", one, "--iterations", str(args.iterations),
                              "--cuts", str(args.cuts)], capture_output=True, text=True)
        if out.returncode:
            print(f"| {one} | failed: {out.stderr.strip().splitlines()[-1]} | |")
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {row['case']} | {row['seconds']:.3f} | {row['rss']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
