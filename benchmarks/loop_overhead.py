"""How much the full loop costs beyond CLIP itself.

For drawer=pixel with ViT-B-32 (random weights: same compute as the real model), at each cutout
count this times (a) Session.step(): synth → cutouts → CLIP → loss → backward → Adam → clamp, and
(b) a bare CLIP forward+backward on the same cutout batch, then prints s/iter, their ratio
(target ≤ 1.10) and the peak RSS. Run: python benchmarks/loop_overhead.py [--iterations N]
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from pixray.session import Session
from pixray.settings import resolve


def seconds_per_call(fn, iterations: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(iterations):
        fn()
    return (time.perf_counter() - start) / iterations


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # KiB on Linux


def measure(num_cuts: int, iterations: int, model: str) -> dict:
    settings = resolve(dict(prompts="a red apple", drawer="pixel", clip_models=model, num_cuts=num_cuts,
                            iterations=10 ** 6, seed=0, device="cpu"))
    session = Session(settings)
    loop = seconds_per_call(session.step, iterations)

    perceptor = session.perceptors[0]
    prompt_loss = session.prompt_losses[0][0][1]
    with torch.no_grad():
        batch = session.cutouts(session.drawer.synth(), torch.Generator().manual_seed(0))

    def bare():
        cuts = batch.clone().requires_grad_(True)
        prompt_loss(perceptor.encode_image(cuts)).backward()

    clip = seconds_per_call(bare, iterations)
    return dict(num_cuts=num_cuts, loop=loop, clip=clip, ratio=loop / clip, rss=peak_rss_gb())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--cuts", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--model", default="ViT-B-32:random")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.model}, drawer=pixel 400x225, "
          f"{args.iterations} timed iterations after 2 warm-up")
    print("| num_cuts | full loop s/iter | bare CLIP fwd+bwd s/iter | ratio (target <= 1.10) | peak RSS GB |")
    print("|---|---|---|---|---|")
    for cuts in args.cuts:
        row = measure(cuts, args.iterations, args.model)
        print(f"| {row['num_cuts']} | {row['loop']:.3f} | {row['clip']:.3f} | {row['ratio']:.3f} | {row['rss']:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
