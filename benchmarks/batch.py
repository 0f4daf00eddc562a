"""Batch throughput: jobs per minute for worker and thread counts, local worker processes vs Ray.

Every row runs the same jobs (the first N lines of examples/items.txt, or --jobs) with the batch's
defaults, which offline are the embedded guide and the sprite drawer at quality normal (200 iterations,
16 cutouts), into a fresh folder, and reports the wall time from the call to the sheet (worker start-up
and model loading included), jobs per minute, the median seconds per job inside a worker, the largest
peak RSS of a worker, and whether its sprites are byte-identical to the first row's. Run it alone:
other torch processes on the same cores make every number meaningless.

    python benchmarks/batch.py [--jobs 8] [--rows local-1x2,local-2x1,...]

Writes benchmarks/results/batch_contact.png (the default row's contact sheet)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the embedded default, without probing the network

import pixray  # noqa: E402
from pixray.batching.runner import cpu_cores  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ROWS = {  # name: (backend, workers, threads per worker)
    "local-1x1": ("local", 1, 1),
    "local-1x2": ("local", 1, 2),
    "local-2x1": ("local", 2, 1),   # the default on two cores
    "local-2x2": ("local", 2, 2),   # oversubscribed: 4 torch threads on 2 cores
    "ray-2x1": ("ray", 2, 1),
}


def sprite_hashes(folder: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "sprites").glob("*.png"))]


def run_row(name: str, prompts: list[str], scratch: Path) -> dict:
    backend, workers, threads = ROWS[name]
    folder = scratch / name
    start = time.perf_counter()
    result = pixray.batch(prompts, backend=backend, workers=workers, threads=threads, palette="shared",
                          outdir=str(folder), progress=False)
    wall = time.perf_counter() - start
    index = json.loads((folder / "index.json").read_text())
    assert not result.failed, [job.error for job in result.failed]
    return dict(name=name, backend=backend, workers=workers, threads=threads, wall=wall,
                per_minute=len(prompts) / wall * 60,
                job_seconds=statistics.median(j["seconds"] for j in index["jobs"]),
                peak_rss=max(j["peak_rss_mb"] for j in index["jobs"]), hashes=sprite_hashes(folder), folder=folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=8, help="how many prompts of examples/items.txt")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, from {', '.join(ROWS)}")
    args = parser.parse_args()
    lines = [line.strip() for line in (ROOT / "examples" / "items.txt").read_text().splitlines()]
    prompts = [line for line in lines if line and not line.startswith("#")][:args.jobs]
    rows = args.rows.split(",")
    scratch = Path(tempfile.mkdtemp(prefix="pixray-batch-bench-"))
    print(f"{len(prompts)} jobs, {cpu_cores()} cores; defaults (offline: embedded guide, sprite drawer, 200 "
          f"iterations, 16 cutouts)\n")
    print("| row | backend | workers × threads | wall s | jobs/min | × first row | median s/job in a worker "
          "| peak RSS/worker MiB | sprites = first row |")
    print("|---|---|---|---|---|---|---|---|---|")
    results = []
    try:
        for name in rows:
            row = run_row(name, prompts, scratch)
            results.append(row)
            first = results[0]
            print(f"| {name} | {row['backend']} | {row['workers']} × {row['threads']} | {row['wall']:.1f} | "
                  f"{row['per_minute']:.2f} | {row['per_minute'] / first['per_minute']:.2f} | "
                  f"{row['job_seconds']:.1f} | {row['peak_rss']:.0f} | "
                  f"{'yes' if row['hashes'] == first['hashes'] else 'NO'} |", flush=True)
        default = next((r for r in results if r["name"] == "local-2x1"), results[0])
        shutil.copy(default["folder"] / "contact.png", ROOT / "benchmarks" / "results" / "batch_contact.png")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
