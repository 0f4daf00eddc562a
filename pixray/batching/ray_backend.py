"""The Ray backend: the same jobs as calls on Ray actors, one actor per worker (models loaded once
each), on a local Ray or a cluster (`address`, or RAY_ADDRESS). Ray restarts an actor whose process
died and retries its job; the batch writes a job's files only from a whole result."""

from __future__ import annotations

import logging
import os
from typing import Iterator

from ..errors import PixrayError, SettingsError
from .worker import Finished, Task, run_job, set_threads


def import_ray():
    try:
        import ray
    except ImportError:
        raise SettingsError("setting 'backend': ray is not installed here; pip install 'pixray[ray]' "
                            "(or use backend local)") from None
    return ray


class _RayWorker:
    """Lives in a Ray worker process. Threaded (max_concurrency 2), so progress() answers while run()
    draws."""

    def __init__(self, threads: int):
        from ..perceptors import ModelCache

        set_threads(threads)
        self.cache = ModelCache()
        self.current = None

    def run(self, task: Task):
        try:
            return "done", run_job(task, self.cache, self._progress)
        except PixrayError as err:
            return "failed", str(err)

    def _progress(self, name: str, iteration: int, total: int) -> None:
        self.current = (name, iteration, total)

    def progress(self):
        return self.current

    def pid(self) -> int:
        return os.getpid()


class RayBackend:
    name = "ray"

    def __init__(self, workers: int | None, threads: int, retries: int, address: str | None = None,
                 gpus_per_worker: float = 0.0, cores: int = 1):
        self.ray = import_ray()
        self.workers, self.threads, self.retries = workers, threads, retries
        self.address, self.gpus, self.cores = address, gpus_per_worker, cores
        self.started_here = False
        self.actors: list = []

    def start(self) -> None:
        ray = self.ray
        if not ray.is_initialized():
            quiet = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
            if self.address or os.environ.get("RAY_ADDRESS"):
                ray.init(address=self.address, **quiet)
            else:  # a local Ray with no more CPUs than the batch may use
                ray.init(num_cpus=(self.workers or max(1, self.cores // self.threads)) * self.threads, **quiet)
            self.started_here = True
        count = self.workers
        if count is None:
            resources = ray.cluster_resources()
            count = int(resources.get("CPU", 1) // self.threads)
            if self.gpus:
                count = min(count, int(resources.get("GPU", 0) // self.gpus))
        remote = ray.remote(num_cpus=self.threads, num_gpus=self.gpus, max_restarts=self.retries,
                            max_task_retries=self.retries, max_concurrency=2)(_RayWorker)
        self.actors = [remote.remote(self.threads) for _ in range(max(1, count))]

    def run(self, tasks: list[Task], progress) -> Iterator[Finished]:
        ray = self.ray
        try:
            self.start()
            waiting = list(reversed(tasks))
            idle = list(self.actors)
            running: dict = {}      # result ref → (actor, task)
            asked: dict = {}        # progress ref → actor
            while waiting or running:
                while idle and waiting:
                    actor = idle.pop()
                    task = waiting.pop()
                    running[actor.run.remote(task)] = (actor, task)
                done, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
                for ref in done:
                    actor, task = running.pop(ref)
                    idle.append(actor)
                    yield self._finished(ref, task)
                self._report(asked, running, progress)
        finally:
            self.close()

    def _finished(self, ref, task: Task) -> Finished:
        try:
            status, value = self.ray.get(ref)
        except self.ray.exceptions.RayError as err:  # the actor died more often than retries allow
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            return Finished(task, None, f"its Ray worker died ({reason[:200]})", self.retries + 1)
        return Finished(task, value, None) if status == "done" else Finished(task, None, value)

    def _report(self, asked: dict, running: dict, progress) -> None:
        """Progress of the running jobs, asked for without waiting for the answer."""
        ray = self.ray
        answered, _ = ray.wait(list(asked), num_returns=len(asked), timeout=0) if asked else ([], [])
        for ref in answered:
            asked.pop(ref)
            try:
                current = ray.get(ref)
            except ray.exceptions.RayError:
                continue
            if current:
                progress(*current)
        polling = set(asked.values())
        for actor, _task in running.values():
            if actor not in polling:
                asked[actor.progress.remote()] = actor

    def close(self) -> None:
        for actor in self.actors:
            try:
                self.ray.kill(actor)
            except Exception:  # already gone
                pass
        self.actors = []
        if self.started_here and self.ray.is_initialized():
            self.ray.shutdown()
            self.started_here = False
