"""Batches: many jobs (prompts × variants) in one folder, one palette and one sprite sheet, run by a
pool of local worker processes or on Ray. `pixray.batch(...)` and `pixray batch JOBS` both land here.

(The package is `batching`, not `batch`, so that `pixray.batch` stays the function.)"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .jobs import BatchOptions, Entry, JobsFile, read_jobs_file

if TYPE_CHECKING:
    from .runner import BatchResult

__all__ = ["batch", "BatchOptions", "BatchResult", "BatchInterrupted", "JobResult"]


def __getattr__(name: str):
    """The runner (and torch with it) loads on first use, so `pixray --help` stays quick."""
    if name in ("BatchInterrupted", "BatchResult", "JobResult", "run_batch"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'pixray.batching' has no attribute {name!r}")


def batch(jobs: Any, *, workers: int | None = None, threads: int | None = None, backend: str | None = None,
          address: str | None = None, gpus_per_worker: float | None = None, variants: int | None = None,
          padding: int | None = None, columns: int | None = None, retries: int | None = None,
          outdir: str | None = None, progress: bool = True, **shared) -> "BatchResult":
    """Run a batch and return its results.

    `jobs`: a jobs file (.txt: a prompt per line; .yaml: `settings`, `jobs`, batch options), or a list
    whose items are prompts or dicts of settings (with optional `name` and `variants`). `shared`: settings
    for every job (`palette="shared"` fits one palette to the whole set). Batch options left at None take
    the jobs file's, else their defaults (BatchOptions). Re-running the same batch into the same `outdir`
    runs only the jobs that are not finished."""
    if isinstance(jobs, (str, os.PathLike)):
        jobs_file = read_jobs_file(jobs)
    else:
        jobs_file = JobsFile("python", [Entry(f"job {number}", spec) for number, spec in enumerate(jobs, 1)])
    given = dict(workers=workers, threads=threads, backend=backend, address=address, gpus_per_worker=gpus_per_worker,
                 variants=variants, padding=padding, columns=columns, retries=retries, outdir=outdir)
    options = {**jobs_file.options, **{k: v for k, v in given.items() if v is not None}}
    from .runner import run_batch

    return run_batch(jobs_file, shared, BatchOptions(**options, progress=progress))
