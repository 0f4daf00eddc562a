"""What a worker does with one job, whichever backend runs it: a Session, and the job's files as bytes.

The worker writes nothing: the batch writes a job's folder only once the job is whole, so a worker
killed halfway (or on another machine of a cluster) leaves no partial files behind."""

from __future__ import annotations

import resource
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Callable

import yaml

from ..errors import PixrayWarning
from ..outputs import final_files
from ..settings import Settings

PROGRESS_EVERY = 5  # iterations between progress reports (each is a message to the batch)


@dataclass
class Task:
    name: str
    settings: Settings


@dataclass
class JobOutput:
    name: str
    seed: int
    iterations: int
    files: dict[str, bytes]
    metrics: dict
    seconds: float
    peak_rss_mb: float  # of the worker process so far (models included)
    warnings: list[str]


@dataclass
class Finished:
    """A job's end, from any backend: its output, or the one-line reason it has none."""

    task: Task
    output: JobOutput | None
    error: str | None = None
    attempts: int = 1


def set_threads(threads: int) -> None:
    """Torch threads of this worker: workers × threads stay within the cores (oversubscribed torch
    threads make every step several times slower)."""
    import torch

    torch.set_num_threads(threads)


def run_job(task: Task, cache, progress: Callable[[str, int, int], None] | None = None) -> JobOutput:
    """Run one job to the end with the worker's model cache; PixrayError propagates (a bad job)."""
    from ..session import Session

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:  # a job's warnings go to the batch, with its name
        warnings.simplefilter("always", PixrayWarning)
        session = Session(task.settings, cache)
        total = task.settings.iterations
        for report in session.iterate(every=PROGRESS_EVERY):
            if progress:
                progress(task.name, report.iteration, total)
        output = session.final_output()
    recipe = task.settings.to_dict()
    files, metrics = final_files(output, recipe, session.seed, session.iteration)
    files["settings.yaml"] = yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True).encode()
    said = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, PixrayWarning)))
    return JobOutput(task.name, session.seed, session.iteration, files, metrics,
                     round(time.perf_counter() - start, 3), peak_rss_mb(), said)


def peak_rss_mb() -> float:
    """The largest resident memory this process has had, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)
