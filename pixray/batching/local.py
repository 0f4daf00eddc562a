"""The local backend: jobs in a pool of worker processes on this machine (or in this process when
there is one worker). Each worker loads its models once and keeps them for every job it runs."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from contextlib import contextmanager
from multiprocessing.connection import wait
from typing import Iterator

from ..errors import PixrayError
from ..signals import in_main_thread
from .worker import Finished, Task, run_job, set_threads


class LocalBackend:
    name = "local"

    def __init__(self, workers: int, threads: int, retries: int):
        self.workers, self.threads, self.retries = workers, threads, retries
        self._processes: list[_Worker] = []

    def run(self, tasks: list[Task], progress) -> Iterator[Finished]:
        if self.workers == 1:
            yield from self._in_process(tasks, progress)
        else:
            try:
                yield from self._pool(tasks, progress)
            finally:
                self.close()

    def _in_process(self, tasks: list[Task], progress) -> Iterator[Finished]:
        import torch

        from ..perceptors import ModelCache

        before = torch.get_num_threads()
        set_threads(self.threads)
        cache = ModelCache()
        try:
            for task in tasks:
                try:
                    yield Finished(task, run_job(task, cache, progress))
                except PixrayError as err:
                    yield Finished(task, None, str(err))
        finally:
            torch.set_num_threads(before)

    def _pool(self, tasks: list[Task], progress) -> Iterator[Finished]:
        waiting = deque((task, 1) for task in tasks)
        idle = [self._start() for _ in range(min(self.workers, len(tasks)))]
        busy: dict[_Worker, tuple[Task, int]] = {}
        while waiting or busy:
            while idle and waiting:
                worker = idle.pop()
                if not worker.process.is_alive():
                    worker = self._start()
                task, attempt = waiting.popleft()
                worker.conn.send(task)
                busy[worker] = (task, attempt)
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=1.0)
            for worker in list(busy):
                task, attempt = busy[worker]
                message = worker.receive() if worker.conn in ready else None
                if message is None and worker.process.sentinel not in ready:
                    continue
                if message and message[0] == "progress":
                    progress(*message[1:])
                    continue
                del busy[worker]
                if message:  # done or failed
                    idle.append(worker)
                    yield Finished(task, message[1], None, attempt) if message[0] == "done" else \
                        Finished(task, None, message[1], attempt)
                    continue
                # the worker died mid-job (killed, out of memory): start another, try the job again
                code = worker.process.exitcode
                worker.stop()
                self._processes.remove(worker)
                idle.append(self._start())
                if attempt <= self.retries:
                    waiting.appendleft((task, attempt + 1))
                else:
                    yield Finished(task, None, f"its worker died {attempt} times (last exit code {code})", attempt)

    def _start(self) -> "_Worker":
        context = multiprocessing.get_context("spawn")  # fork after torch's thread pools start can hang
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, self.threads), daemon=True)
        # Ctrl-C reaches every process of the terminal; the workers ignore it (inherited through exec)
        # and the batch stops them, so they print no tracebacks of their own.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread() else None
        try:
            with _thread_limits(self.threads):
                process.start()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        child.close()
        worker = _Worker(process, parent)
        self._processes.append(worker)
        return worker

    def close(self) -> None:
        for worker in self._processes:
            worker.stop()
        self._processes = []


# Read by OpenMP, OpenBLAS and MKL when a process loads them, before any code of ours runs there: numpy's
# BLAS (the palette fit) would otherwise start a thread per core in every worker, as torch's would.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def _thread_limits(threads: int):
    """The workers started inside inherit these limits (spawn copies the environment at start)."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _Worker:
    def __init__(self, process, conn):
        self.process, self.conn = process, conn

    def receive(self):
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            return None

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout=1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _serve(conn, threads: int) -> None:
    """A worker process: jobs in, outputs and progress out, until told to stop or the batch is gone."""
    from ..perceptors import ModelCache

    set_threads(threads)
    cache = ModelCache()

    def progress(name: str, iteration: int, total: int) -> None:
        conn.send(("progress", name, iteration, total))

    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            conn.send(("done", run_job(task, cache, progress)))
        except PixrayError as err:
            conn.send(("failed", str(err)))
        except (BrokenPipeError, EOFError):
            return  # the batch went away
        except Exception as err:  # a bug: this job fails with one line, the others still run
            conn.send(("failed", f"{type(err).__name__}: {err}"))
