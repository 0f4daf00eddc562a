"""Per drawer: seconds per iteration of the full loop and peak RSS; and the stroke rasteriser alone
(256 strokes, forward+backward) at 224x224 and 480x270. Each case runs in its own process so its
peak RSS is its own. Run: python benchmarks/drawers.py [--iterations N]

VQGAN uses the imagenet_f16_16384 architecture with random weights (same compute as the real one).
--device cuda times the same cases on a GPU (synchronised; peak GPU memory instead of RSS).
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

def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def peak_memory_gb(device: str) -> float:
    import torch
    return torch.cuda.max_memory_allocated() / 1024 ** 3 if device == "cuda" else peak_rss_gb()


def timed(step, iterations: int, device: str) -> float:
    """Seconds per call of `step` after one warm-up (waiting for the GPU where there is one)."""
    import torch
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    step()
    sync()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    sync()
    return (time.perf_counter() - start) / iterations


def loop_case(drawer: str, iterations: int, cuts: int, device: str) -> dict:
    from pixray.session import Session
    from pixray.settings import resolve

    with tempfile.TemporaryDirectory(prefix="pixray-drawers-bench-") as outdir:
        values = dict(prompts="a lighthouse at night", drawer=drawer, clip_models="ViT-B-32:random", num_cuts=cuts,
                      iterations=10 ** 6, seed=0, device=device, outdir=outdir)
        if drawer == "vqgan":
            values.update(vqgan_checkpoint="random")  # imagenet_f16_16384's architecture
        session = Session(resolve(values))
        seconds = timed(session.step, iterations, device)
    size = "x".join(map(str, session.settings.size))
    return dict(case=f"{drawer} loop ({size}, cutn {cuts})", seconds=seconds, memory=peak_memory_gb(device))


def raster_case(width: int, height: int, iterations: int, device: str) -> dict:
    import torch

    from pixray.vector import patch_size, rasterize

    generator = torch.Generator().manual_seed(0)
    count, stroke_length, max_width = 256, 0.1, 5.0
    radius = stroke_length * max(width, height) / 2
    anchors = torch.rand(count, 1, 2, generator=generator) * torch.tensor([width, height])
    control = (anchors + (torch.rand(count, 7, 2, generator=generator) - 0.5) * radius).to(device).requires_grad_()
    widths = (1 + 4 * torch.rand(count, generator=generator)).to(device).requires_grad_()
    colors = torch.rand(count, 4, generator=generator).to(device).requires_grad_()
    patch = patch_size(2 * radius, max_width)
    paper = torch.ones(3, device=device)

    def step():
        rasterize(control, widths, colors, (width, height), paper, patch).square().mean().backward()

    return dict(case=f"raster 256 strokes {width}x{height} fwd+bwd", seconds=timed(step, iterations, device),
                memory=peak_memory_gb(device))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--cuts", type=int, default=8)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, _, arg = args.one.partition(":")
        if kind == "raster":
            w, h = map(int, arg.split("x"))
            print(json.dumps(raster_case(w, h, args.iterations, args.device)))
        else:
            print(json.dumps(loop_case(arg, args.iterations, args.cuts, args.device)))
        return
    import torch
    where = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {where}; {args.iterations} timed iterations after 1 warm-up; each row in "
          f"a fresh process")
    print(f"| case | s/iter | {'peak GPU memory GB' if args.device == 'cuda' else 'peak RSS GB'} |")
    print("|---|---|---|")
    for one in ["raster:224x224", "raster:480x270", "loop:pixel", "loop:sprite", "loop:line_sketch", "loop:clipdraw",
                "loop:vqgan"]:
        out = subprocess.run([sys.executable, __file__, "--one", one, "--iterations", str(args.iterations),
                              "--cuts", str(args.cuts), "--device", args.device], capture_output=True, text=True)
        if out.returncode:
            print(f"| {one} | failed: {out.stderr.strip().splitlines()[-1]} | |")
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {row['case']} | {row['seconds']:.3f} | {row['memory']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
