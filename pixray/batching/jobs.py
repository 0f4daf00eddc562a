"""What a batch is made of: its options, the jobs file (text or YAML) and the jobs it expands to.

Everything here runs before any model loads. A job that cannot run (a bad setting, a bad YAML entry)
becomes a Job with an error naming its line; the other jobs still run."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import SettingsError
from ..settings import Settings, _finite, normalise, resolve
from ..outputs import LOCATION_SETTINGS

BACKENDS = ("local", "ray")
SHARED_PALETTE = "shared"  # palette: shared → one palette fitted to the whole set once every job ran
# A job's files are its final picture; frames and movies are for single runs.
NOT_IN_A_BATCH = {"save_every": "frames", "video": "a movie", "gif": "a GIF", **{k: "" for k in LOCATION_SETTINGS}}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")


@dataclass
class BatchOptions:
    """How a batch runs (not what it draws): these never change a sprite's pixels."""

    workers: int | None = None       # None: the cores divided by `threads` (local), the cluster's (ray)
    threads: int | None = None       # torch threads per worker (default: the cores / workers, or 1)
    backend: str = "local"
    address: str | None = None       # a Ray cluster (else RAY_ADDRESS, else a local Ray)
    gpus_per_worker: float = 0.0     # Ray: GPUs each worker reserves (set it on a GPU cluster)
    variants: int = 1                # seeds per job unless a job says otherwise
    padding: int = 1                 # transparent pixels between (and around) sprites on the sheet
    columns: int | None = None       # sheet columns (default: about square)
    retries: int = 2                 # times a job whose worker died is tried again
    outdir: str | None = None        # the batch folder (default: outputs/batch-<jobs file name>)
    progress: bool = True

    def __post_init__(self):
        _whole(self, "workers", 1, optional=True)
        _whole(self, "threads", 1, optional=True)
        _whole(self, "variants", 1)
        _whole(self, "padding", 0)
        _whole(self, "columns", 1, optional=True)
        _whole(self, "retries", 0)
        if self.backend not in BACKENDS:
            raise SettingsError(f"setting 'backend': {self.backend!r} is not one of {', '.join(BACKENDS)}")
        try:
            self.gpus_per_worker = float(self.gpus_per_worker)
        except (TypeError, ValueError):
            raise SettingsError(f"setting 'gpus_per_worker': cannot use {self.gpus_per_worker!r}: expected a "
                                f"number") from None
        if not 0 <= self.gpus_per_worker < float("inf"):
            raise SettingsError("setting 'gpus_per_worker': allowed: a finite number, at least 0")


BATCH_OPTIONS = [name for name in BatchOptions.__dataclass_fields__ if name != "progress"]  # in files, on the CLI


def _whole(options: BatchOptions, name: str, minimum: int, optional: bool = False) -> None:
    value = getattr(options, name)
    if value is None and optional:
        return
    try:
        number = _finite(value)
        if number != int(number):
            raise ValueError
    except (TypeError, ValueError):
        raise SettingsError(f"setting {name!r}: cannot use {value!r}: expected a whole number") from None
    if number < minimum:
        raise SettingsError(f"setting {name!r}: {int(number)} is out of range; allowed: at least {minimum}")
    setattr(options, name, int(number))


@dataclass
class Entry:
    """One job as written (a prompt, or a mapping of settings) and where: 'items.txt line 3'."""

    where: str
    spec: Any


@dataclass
class JobsFile:
    source: str                      # names the batch (its folder is reused only by the same source)
    entries: list[Entry]
    shared: dict = field(default_factory=dict)   # settings every job gets
    options: dict = field(default_factory=dict)  # BatchOptions given in the file


@dataclass
class Job:
    name: str
    where: str                       # "items.txt line 3": for messages
    values: dict                     # the settings this job asked for (shared + its own), normalised
    variant: int = 0
    group: str = ""                  # the entry's name: the variants of one entry share it
    settings: Settings | None = None
    seed: int | None = None
    error: str | None = None

    @property
    def recipe(self) -> str:
        """A hash of everything that decides the job's pixels (not where its files go)."""
        plain = {k: v for k, v in self.settings.to_dict().items() if k not in LOCATION_SETTINGS}
        return hashlib.sha256(json.dumps(plain, sort_keys=True, default=str).encode()).hexdigest()[:16]


def read_jobs_file(path: str | os.PathLike) -> JobsFile:
    """A .txt file (one prompt per line; blank lines and lines starting with '#' skipped) or a .yaml /
    .yml file: `settings:` shared by all jobs, `jobs:` a list (a prompt, or a mapping of settings with
    optional `name` and `variants`), and batch options (variants, padding, columns, workers, ...)."""
    where = f"jobs file {str(path)!r}"
    file = Path(path)
    if file.is_dir():
        raise SettingsError(f"{where} is a folder, not a .txt or .yaml file")
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"{where} does not exist") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{where} is not a text file") from None
    if file.suffix.lower() in (".yaml", ".yml"):
        jobs = _parse_yaml(text, where, file.name)
    else:
        entries = [Entry(f"{file.name} line {number}", line.strip())
                   for number, line in enumerate(text.splitlines(), 1)
                   if line.strip() and not line.lstrip().startswith("#")]
        jobs = JobsFile(file.name, entries)
    if not jobs.entries:
        raise SettingsError(f"{where} holds no jobs")
    jobs.source = file.name
    return jobs


def _parse_yaml(text: str, where: str, name: str) -> JobsFile:
    try:
        data = yaml.safe_load(text) or {}
        root = yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise SettingsError(f"{where} is not valid YAML{at}: {getattr(err, 'problem', None) or err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        raise SettingsError(f"{where} must hold `jobs:` (a list of prompts or mappings), and optionally "
                            f"`settings:` and batch options ({', '.join(BATCH_OPTIONS)})")
    unknown = set(data) - {"jobs", "settings", *BATCH_OPTIONS}
    if unknown:
        raise SettingsError(f"{where}: unknown key {sorted(unknown)[0]!r}; allowed at the top: jobs, settings, "
                            f"{', '.join(BATCH_OPTIONS)}")
    shared = data.get("settings") or {}
    if not isinstance(shared, dict):
        raise SettingsError(f"{where}: `settings:` must be a mapping of setting: value")
    jobs_node = next(value for key, value in root.value if key.value == "jobs")
    lines = [item.start_mark.line + 1 for item in jobs_node.value]
    entries = [Entry(f"{name} line {line}", spec) for line, spec in zip(lines, data["jobs"])]
    options = {k: v for k, v in data.items() if k in BATCH_OPTIONS}
    return JobsFile("", entries, shared, options)


def split_shared(values: dict) -> tuple[dict, bool]:
    """Normalised shared settings, and whether palette is 'shared' (fitted to the set, not a setting)."""
    values = dict(values)
    shared_palette = str(values.get("palette", "")).strip().lower() == SHARED_PALETTE
    if shared_palette:
        del values["palette"]
    _refuse_batch_keys(values, "")
    return normalise(values), shared_palette


def _refuse_batch_keys(values: dict, where: str) -> None:
    for key in values:
        bare = key.strip().lstrip("-").replace("-", "_")
        if bare in NOT_IN_A_BATCH and values[key] not in (None, False, 0, ""):
            what = ("the batch chooses each job's folder (give the batch folder with outdir)"
                    if bare in LOCATION_SETTINGS else f"batch jobs write their final picture, not {NOT_IN_A_BATCH[bare]}")
            raise SettingsError(f"{where}setting {bare!r} is not for a batch job: {what}")


def expand_jobs(jobs: JobsFile, shared: dict, variants: int) -> list[Job]:
    """Each entry → `variants` jobs with their own seeds and settings resolved (no model loads here).
    A bad entry becomes one failed Job naming its line; names are unique folder names."""
    expanded: list[Job] = []
    taken: set[str] = set()
    for number, entry in enumerate(jobs.entries, 1):
        where = entry.where
        try:
            own, name, count = _entry_settings(entry.spec, variants)
            values = {**shared, **own}
        except SettingsError as err:
            expanded.append(Job(_unique(_name_of(entry.spec, number), taken), where, {}, error=f"{where}: {err}"))
            continue
        base = name or slug(values.get("prompts") or values.get("image_prompts") or ["job"])
        group = _unique(base, taken)
        for variant in range(count):
            job = Job(group if count == 1 else _unique(f"{group}-{variant + 1}", taken), where, values, variant, group)
            _resolve_job(job)
            expanded.append(job)
    return expanded


def _name_of(spec: Any, number: int) -> str:
    """A failed entry's name in messages and index.json: its own, its prompt's, or job-N."""
    if isinstance(spec, dict) and NAME.fullmatch(str(spec.get("name", ""))):
        return str(spec["name"])
    prompt = spec if isinstance(spec, str) else spec.get("prompts") if isinstance(spec, dict) else None
    if isinstance(prompt, str) and slug([prompt]) != "job":
        return slug([prompt])
    return f"job-{number}"


def _entry_settings(spec: Any, variants: int) -> tuple[dict, str | None, int]:
    if isinstance(spec, str):
        return normalise({"prompts": spec}), None, variants
    if not isinstance(spec, dict):
        raise SettingsError(f"a job is a prompt or a mapping of settings, not {type(spec).__name__}")
    spec = dict(spec)
    name = spec.pop("name", None)
    if name is not None and not NAME.fullmatch(str(name)):
        raise SettingsError(f"setting 'name': {name!r} must be a folder name: letters, digits, '_', '-', '.'")
    count = BatchOptions(variants=spec.pop("variants", variants)).variants
    _refuse_batch_keys(spec, "")
    if spec.get("palette") is not None and str(spec["palette"]).strip().lower() == SHARED_PALETTE:
        raise SettingsError("setting 'palette': shared is a batch-wide choice; give it once for the batch")
    return normalise(spec), (str(name) if name is not None else None), count


def _resolve_job(job: Job) -> None:
    """The job's full settings: its seed fixed (so every backend and every rerun draws the same
    pixels), no frames. (Its folder inside the batch is set once the batch has one.)"""
    from ..session import resolve_seed

    seed = job.values.get("seed")
    if seed is None:
        seed = job.name  # stable: the same job draws the same sprite on every run and backend
    elif job.variant:
        seed = seed + job.variant if isinstance(seed, int) else f"{seed}-{job.variant}"
    job.seed = resolve_seed(seed)
    values = {**job.values, "seed": job.seed, "save_every": 0}
    try:
        job.settings = resolve(values, announce=False)
    except SettingsError as err:
        job.error = f"{job.where}: {err}"


def slug(prompts: list[str]) -> str:
    """A folder name from the first prompt: 'A red apple #pixelart:2' → 'a-red-apple'."""
    text = re.sub(r":-?[\d.]+\s*$", "", str(prompts[0]))       # a weight
    text = re.sub(r"#\w+", "", text)                            # tags such as #pixelart
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)[:40].strip("-") or "job"


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate
