"""A batch: many Sessions in one folder. It picks and locks the folder, skips the jobs a previous run
finished (checked against their files), hands the rest to a backend, writes each job's folder whole,
keeps index.json valid at every moment, and ends with the shared palette, the sheet and its atlases."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ..errors import SettingsError
from ..palettes import load_palette
from ..signals import Terminated, deferred_interrupts, terminate_as_interrupt
from ..version import __version__
from .jobs import BatchOptions, Job, JobsFile, expand_jobs, split_shared
from ..outputs import png_bytes
from .sheet import fit_shared_palette, in_palette, write_atomic, write_sheet_files
from .worker import Task

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; two batches there must not share a folder
    fcntl = None

INDEX = "index.json"
RECORD = "job.json"   # in each job's folder: its recipe and file hashes; what a rerun checks
INDEX_EVERY = 1.0     # seconds between index.json rewrites while jobs finish (a big batch finishes many a second)


@dataclass
class JobResult:
    name: str
    status: str                       # done, failed or pending (not run: interrupted)
    where: str
    seed: int | None = None
    files: list[Path] = field(default_factory=list)
    sprite: Path | None = None        # sprites/<name>.png: the native sprite in the batch's palette
    metrics: dict | None = None
    seconds: float | None = None
    error: str | None = None


@dataclass
class BatchResult:
    outdir: Path
    jobs: list[JobResult]
    files: dict[str, Path] = field(default_factory=dict)   # sheet, atlas, aseprite, contact, palette, index
    palette: list[str] | None = None
    skipped: int = 0                  # jobs a previous run had finished
    interrupted: bool = False

    @property
    def failed(self) -> list[JobResult]:
        return [job for job in self.jobs if job.status == "failed"]


def run_batch(jobs_file: JobsFile, shared_values: dict, options: BatchOptions) -> BatchResult:
    """Run every job of `jobs_file` (settings: the file's, then `shared_values`) as `options` say."""
    shared, shared_palette = split_shared({**jobs_file.shared, **shared_values})
    backend = make_backend(options)
    jobs = expand_jobs(jobs_file, shared, options.variants)
    _check_not_all_bad(jobs)
    folder = choose_folder(Path(options.outdir or f"outputs/batch-{Path(jobs_file.source).stem}"),
                           jobs_file.source, options.progress)
    if options.progress:
        _say_embedded(jobs)
    with _locked(folder), terminate_as_interrupt():
        return _Batch(folder, jobs_file.source, jobs, shared, shared_palette, options, backend).run()


def _check_not_all_bad(jobs: list[Job]) -> None:
    """When every job fails the same way the fault is the batch's (a shared setting): one line, nothing run."""
    reasons = {job.error.partition(": ")[2] for job in jobs if job.error}
    if len(reasons) == 1 and all(job.error for job in jobs):
        raise SettingsError(reasons.pop() + ("" if len(jobs) == 1 else f" (all {len(jobs)} jobs)"))


def _say_embedded(jobs: list[Job]) -> None:
    """resolve() stays quiet for each job; the batch says once that the embedded guide stands in for CLIP."""
    from ..perceptors import EMBEDDED

    standing_in = [job for job in jobs if job.settings and "clip_models" not in job.values
                   and job.settings.clip_models == [EMBEDDED]]
    if standing_in:
        print(f"pixray: no CLIP weights here and no internet: {len(standing_in)} of {len(jobs)} jobs use the embedded "
              f"guide (small, emoji-trained; see MODEL_CARD.md); pass clip_models to choose", file=sys.stderr)


def cpu_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def make_backend(options: BatchOptions):
    """Workers and threads such that workers × threads stay within the cores (unless both are given)."""
    cores = cpu_cores()
    threads = options.threads
    workers = options.workers
    if threads is None:
        threads = max(1, cores // workers) if workers else 1
    if options.backend == "ray":
        from .ray_backend import RayBackend

        return RayBackend(workers, threads, options.retries, options.address, options.gpus_per_worker, cores)
    from .local import LocalBackend

    workers = workers or max(1, cores // threads)
    if workers * threads > cores and options.progress:
        print(f"pixray: {workers} workers × {threads} threads on {cores} cores: they will slow each other down",
              file=sys.stderr)
    return LocalBackend(workers, threads, options.retries)


def choose_folder(wanted: Path, source: str, announce: bool) -> Path:
    """The batch folder: `wanted` if it is new, empty, or holds this same batch (then the run resumes);
    else the first free wanted_2, wanted_3 ... (a folder is never shared by two batches)."""
    for number in range(1, 10_000):
        folder = wanted if number == 1 else wanted.with_name(f"{wanted.name}_{number}")
        if folder.exists() and not folder.is_dir():
            continue
        if folder.is_dir() and any(folder.iterdir()) and _read_index(folder).get("source") != source:
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SettingsError(f"setting 'outdir': cannot create {str(folder)!r} ({err.strerror or err})") from None
        if folder != wanted and announce:
            print(f"pixray: {wanted} holds something else; this batch writes to {folder}", file=sys.stderr)
        return folder
    raise SettingsError(f"setting 'outdir': no free folder name for {str(wanted)!r}")


def _read_index(folder: Path) -> dict:
    try:
        data = json.loads((folder / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("kind") == "pixray batch" else {}


class _locked:
    """Hold the batch folder's lock for the run: a second batch on the same folder stops at once."""

    def __init__(self, folder: Path):
        self.path = folder / ".lock"
        self.file = None

    def __enter__(self):
        self.file = open(self.path, "a")
        if fcntl is not None:
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self.file.close()
                raise SettingsError(f"setting 'outdir': {str(self.path.parent)!r} is in use by another pixray "
                                    f"batch; wait for it to end or give another outdir") from None
        return self

    def __exit__(self, *exc):
        self.file.close()  # closing releases the lock (so does the process dying)


def sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class _Batch:
    def __init__(self, folder: Path, source: str, jobs: list[Job], shared: dict, shared_palette: bool,
                 options: BatchOptions, backend):
        self.folder, self.source, self.jobs, self.options, self.backend = folder, source, jobs, options, backend
        self.shared, self.shared_palette = shared, shared_palette
        self.tags = _variant_tags(self.jobs)
        self.entries: dict[str, dict] = {}
        self.skipped = 0
        for job in self.jobs:
            self.entries[job.name] = self._entry(job)
            record = self._finished_before(job)
            if record:
                self.entries[job.name].update(record, status="done")
                self.skipped += 1
        self.bar = None
        self.index_written, self.index_dirty = 0.0, False
        self.running: dict[str, float] = {}  # job → fraction of its iterations done

    def _entry(self, job: Job) -> dict:
        return {"name": job.name, "where": job.where, "variant": job.variant, "seed": job.seed,
                "status": "failed" if job.error else "pending", "error": job.error,
                "recipe": job.recipe if job.settings else None,
                "settings": json.loads(json.dumps(job.values, default=str)), "files": {}}

    def _finished_before(self, job: Job) -> dict | None:
        """The job's record if an earlier run finished it with the same recipe and every file it wrote is
        still there, unchanged (the record is written last, inside the folder that appears whole)."""
        if job.error is not None:
            return None
        try:
            record = json.loads((self.folder / "jobs" / job.name / RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        files = record.get("files") if isinstance(record, dict) else None
        if not isinstance(files, dict) or not files or record.get("recipe") != job.recipe:
            return None  # a record that is not a mapping of files (damaged) counts as unfinished
        if all(sha256(self.folder / name) == digest for name, digest in files.items()):
            return record
        return None

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> BatchResult:
        to_run = [job for job in self.jobs if self.entries[job.name]["status"] == "pending"]
        self._say_bad_jobs()
        if self.skipped and self.options.progress:
            print(f"pixray: {self.skipped} of {len(self.jobs)} jobs were finished by an earlier run of this batch "
                  f"in {self.folder}", file=sys.stderr)
        self._write_index(force=True)
        interrupted: KeyboardInterrupt | None = None
        try:
            if to_run:
                self._run_jobs(to_run)
        except KeyboardInterrupt as stop:
            interrupted = stop
        finally:
            if self.bar is not None:
                self.bar.close()
        with deferred_interrupts(stopping=interrupted is not None):  # a second Ctrl-C must not cut the files short
            files, palette = self._finish()
            self._write_index(files, palette, force=True)
            _remove_if_empty(self.folder / ".partial")
        result = self._result(files, palette, interrupted is not None)
        if interrupted is not None:
            raise BatchInterrupted(result, isinstance(interrupted, Terminated))
        return result

    def _say_bad_jobs(self) -> None:
        for job in self.jobs:
            if job.error:
                print(f"pixray: error: {job.error} (that job is skipped; the others run)", file=sys.stderr)

    def _run_jobs(self, jobs: list[Job]) -> None:
        tasks = [Task(job.name, job.settings.replace(outdir=str(self.folder / "jobs" / job.name))) for job in jobs]
        self.total, self.completed = len(tasks), 0
        if self.options.progress:
            from tqdm import tqdm

            self.bar = tqdm(total=len(tasks), unit="job", dynamic_ncols=True, file=sys.stderr,
                            bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")
            self._refresh()
        for finished in self.backend.run(tasks, self._progress):
            self.running.pop(finished.task.name, None)
            self.completed += 1
            with deferred_interrupts(stopping=False):  # a job's folder and the index are written whole
                line = self._record(finished)
            if self.bar is not None:
                self.bar.write(f"pixray: [{self.completed}/{self.total}] {line}", file=sys.stderr)
                self._refresh()

    def _progress(self, name: str, iteration: int, total: int) -> None:
        if self.index_dirty:
            self._write_index()
        if name in self.entries and self.entries[name]["status"] == "pending" and iteration < total:
            self.running[name] = iteration / total
            self._refresh()

    def _refresh(self) -> None:
        if self.bar is None:
            return
        self.bar.n = self.completed + sum(self.running.values())  # ETA from iterations, not whole jobs only
        now = ", ".join(f"{name} {fraction:.0%}" for name, fraction in list(self.running.items())[:3])
        self.bar.set_description_str(f"{self.completed}/{self.total} jobs" + (f" · {now}" if now else ""), refresh=False)
        self.bar.refresh()

    def _record(self, finished) -> str:
        entry = self.entries[finished.task.name]
        entry["attempts"] = finished.attempts
        if finished.output is None:
            entry.update(status="failed", error=f"{entry['where']}: {finished.error}")
            self._write_index()
            return f"{entry['name']} failed: {entry['error']}"
        output = finished.output
        record = dict(recipe=entry["recipe"], seed=output.seed, iterations=output.iterations, metrics=output.metrics,
                      seconds=output.seconds, peak_rss_mb=output.peak_rss_mb, warnings=output.warnings,
                      attempts=finished.attempts)
        record["files"] = self._write_job(entry["name"], output.files, record)
        entry.update(record, status="done", error=None)
        self._write_index()
        metrics = output.metrics
        said = "".join(f"\n  warning: {text}" for text in output.warnings)
        return (f"{entry['name']}: {metrics['width']}x{metrics['height']} cells, {metrics['colors']} colours, "
                f"{output.seconds:.1f} s (seed {output.seed}){said}")

    def _write_job(self, name: str, files: dict[str, bytes], record: dict) -> dict[str, str]:
        """Write the job's files and its record into a private folder, then move it into place in one
        rename: a job folder is whole or absent. A folder already there (an older recipe, or changed
        files) is kept beside it. Returns the files' hashes by their path in the batch folder."""
        partial = self.folder / ".partial" / name
        if partial.exists():
            shutil.rmtree(partial)  # this batch's own leftover from a run that was killed
        partial.mkdir(parents=True)
        hashes = {f"jobs/{name}/{file}": hashlib.sha256(data).hexdigest() for file, data in files.items()}
        for file, data in files.items():
            (partial / file).write_bytes(data)
        (partial / RECORD).write_text(json.dumps({"name": name, **record, "files": hashes}, indent=1) + "\n")
        final = self.folder / "jobs" / name
        final.parent.mkdir(exist_ok=True)
        if final.exists():
            number = 1
            while final.with_name(f"{name}.replaced-{number}").exists():
                number += 1
            final.rename(final.with_name(f"{name}.replaced-{number}"))
        partial.rename(final)
        return hashes

    # -- the end --------------------------------------------------------------------------------

    def _done(self) -> list[dict]:
        return [self.entries[job.name] for job in self.jobs if self.entries[job.name]["status"] == "done"]

    def _finish(self) -> tuple[dict[str, Path], list[str] | None]:
        """The batch's palette (given, or fitted to the whole set), every sprite in it, the sheet."""
        done = self._done()
        if not done:
            return {}, None
        sprites = [(entry["name"], _sprite_of(self.folder, entry)) for entry in done]
        palette = self._palette([image for _, image in sprites])
        files: dict[str, Path] = {}
        if palette is not None:
            sprites = [(name, in_palette(image, palette)) for name, image in sprites]
            files["palette"] = write_atomic(self.folder / "palette.gpl", palette.to_gpl("pixray batch").encode())
            write_atomic(self.folder / "palette.hex", palette.to_hex().encode())
        for (name, image), entry in zip(sprites, done):
            entry["sprite"] = str(write_atomic(self.folder / "sprites" / f"{name}.png", png_bytes(image))
                                  .relative_to(self.folder))
        tags = {tag: numbers for tag, names in self.tags.items()
                if len(numbers := [i for i, entry in enumerate(done) if entry["name"] in names]) > 1}
        files.update(write_sheet_files(self.folder, sprites, self.options.padding, self.options.columns, tags))
        hexes = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in palette.colors] if palette is not None else None
        return files, hexes

    def _palette(self, sprites: list[Image.Image]):
        if self.shared_palette:
            count = next(job.settings.colors for job in self.jobs if job.settings) or 16
            return fit_shared_palette(sprites, count)
        if self.shared.get("palette"):
            return load_palette(self.shared["palette"])
        return None

    def _write_index(self, files: dict[str, Path] | None = None, palette: list[str] | None = None,
                     force: bool = False) -> None:
        """index.json, whole (written aside, then renamed); while jobs finish at most every INDEX_EVERY
        seconds, since a rerun trusts the jobs' own records, not the index."""
        self.index_dirty = True
        if not force and time.monotonic() - self.index_written < INDEX_EVERY:
            return  # written later: at the next job's progress or end, or at the batch's end
        self.index_written, self.index_dirty = time.monotonic(), False
        index = {"kind": "pixray batch", "pixray": __version__, "source": self.source,
                 "backend": self.backend.name, "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
                 "palette": palette, "files": {k: str(p.relative_to(self.folder)) for k, p in (files or {}).items()},
                 "jobs": [self.entries[job.name] for job in self.jobs]}
        write_atomic(self.folder / INDEX, (json.dumps(index, indent=1) + "\n").encode())

    def _result(self, files: dict[str, Path], palette, interrupted: bool) -> BatchResult:
        jobs = []
        for job in self.jobs:
            entry = self.entries[job.name]
            jobs.append(JobResult(entry["name"], entry["status"], entry["where"], entry.get("seed"),
                                  [self.folder / name for name in entry.get("files", {})],
                                  self.folder / entry["sprite"] if entry.get("sprite") else None,
                                  entry.get("metrics"), entry.get("seconds"), entry.get("error")))
        files = {**files, "index": self.folder / INDEX}
        return BatchResult(self.folder, jobs, files, palette, self.skipped, interrupted)


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a batch: finished jobs, the sheet of them and index.json are written."""

    def __init__(self, result: BatchResult, terminated: bool = False):
        super().__init__()
        self.result, self.terminated = result, terminated


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not there, or holds a killed job's leftovers (the next run clears them)
        pass


def _sprite_of(folder: Path, entry: dict) -> Image.Image:
    """The job's native sprite (or its picture, for drawers without one)."""
    names = [name for name in entry["files"] if name.endswith("_sprite.png")] or \
        [name for name in entry["files"] if name.endswith(".png")]
    with Image.open(folder / names[0]) as image:
        image.load()  # the pixels stay when the file closes
        return image


def _variant_tags(jobs: list[Job]) -> dict[str, set[str]]:
    """The jobs that are variants of one entry, by the entry's name: they become an Aseprite frame tag."""
    tags: dict[str, set[str]] = {}
    for job in jobs:
        if job.settings is not None:
            tags.setdefault(job.group, set()).add(job.name)
    return tags
