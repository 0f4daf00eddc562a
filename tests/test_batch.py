"""Batches: jobs files, names and seeds, the shared palette, the sheet and its atlases, index.json,
resume, folders and locks, local worker processes, Ray, and the `pixray batch` command."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import pixray
from pixray.batching import BatchOptions
from pixray.batching.jobs import Entry, JobsFile, expand_jobs, read_jobs_file, slug
from pixray.batching.local import LocalBackend
from pixray.batching.worker import Task
from pixray.errors import SettingsError
from pixray.palettes import load_palette
from tests.conftest import isolated_env

# The real embedded guide and sprite drawer, small and short: a job takes well under a second.
FAST = dict(clip_models="embedded", drawer="sprite", iterations=3, num_cuts=2, size=(64, 64), pixel_size=(16, 16))
FAST_YAML = "\n".join(f"  {k}: {list(v) if isinstance(v, tuple) else v}" for k, v in FAST.items())


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def colours(path: Path) -> set[tuple[int, int, int]]:
    rgba = np.asarray(Image.open(path).convert("RGBA"))
    return set(map(tuple, rgba[..., :3][rgba[..., 3] > 0].reshape(-1, 3).tolist()))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def quiet_batch(jobs, **kwargs):
    return pixray.batch(jobs, progress=False, **{**FAST, **kwargs})


# -- jobs files -------------------------------------------------------------------------------------

def test_text_jobs_file_skips_comments_and_names_each_line(tmp_path):
    jobs = read_jobs_file(write(tmp_path / "items.txt", "# my items\n\na red apple #pixelart\nA red apple\n"
                                                        "an old key:2\n"))
    assert [e.where for e in jobs.entries] == ["items.txt line 3", "items.txt line 4", "items.txt line 5"]
    expanded = expand_jobs(jobs, {"clip_models": ["embedded"], "drawer": "sprite"}, variants=1)
    assert [j.name for j in expanded] == ["a-red-apple", "a-red-apple_2", "an-old-key"]
    assert slug(["A Dragon's hoard: gold!:1.5"]) == "a-dragon-s-hoard-gold"


def test_yaml_jobs_give_shared_settings_variants_and_seeds(tmp_path):
    jobs = read_jobs_file(write(tmp_path / "set.yaml", f"""
settings:
{FAST_YAML}
variants: 2
padding: 3
outdir: my-set
jobs:
  - a red apple
  - prompts: an old key
    name: key
    seed: 40
    variants: 3
    iterations: 5
  - prompts: a coin
    seed: gold
"""))
    assert jobs.options == {"variants": 2, "padding": 3, "outdir": "my-set"}
    expanded = expand_jobs(jobs, jobs.shared, variants=jobs.options["variants"])
    assert [j.name for j in expanded] == ["a-red-apple-1", "a-red-apple-2", "key-1", "key-2", "key-3",
                                          "a-coin-1", "a-coin-2"]
    assert [j.where for j in expanded][2] == "set.yaml line 14"
    keys = [j for j in expanded if j.group == "key"]
    assert [j.seed for j in keys] == [40, 41, 42]
    assert {j.settings.iterations for j in keys} == {5}
    assert expanded[0].settings.iterations == 3
    assert len({j.seed for j in expanded}) == len(expanded)  # every job its own seed
    again = expand_jobs(jobs, jobs.shared, variants=2)
    assert [j.seed for j in again] == [j.seed for j in expanded]  # seeds are fixed, not drawn


@pytest.mark.parametrize("text, message", [
    ("jobs: 3", "must hold `jobs:`"),
    ("jobs: [a]\nworkerz: 2", "unknown key 'workerz'"),
    ("jobs: [a\n", "not valid YAML at line"),
])
def test_bad_jobs_file_is_one_error(tmp_path, text, message):
    with pytest.raises(SettingsError, match=message):
        read_jobs_file(write(tmp_path / "bad.yaml", text))


def test_missing_or_empty_jobs_file(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        read_jobs_file(tmp_path / "nope.txt")
    with pytest.raises(SettingsError, match="holds no jobs"):
        read_jobs_file(write(tmp_path / "empty.txt", "# nothing\n\n"))


@pytest.mark.parametrize("options, message", [
    (dict(workers=0), "setting 'workers': 0 is out of range; allowed: at least 1"),
    (dict(threads=1.5), "setting 'threads': cannot use 1.5: expected a whole number"),
    (dict(backend="dask"), "setting 'backend': 'dask' is not one of local, ray"),
    (dict(padding=float("nan")), "setting 'padding'"),
    (dict(gpus_per_worker=float("inf")), "setting 'gpus_per_worker'"),
])
def test_bad_batch_options(options, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        BatchOptions(**options)


def test_settings_a_batch_decides_are_refused():
    with pytest.raises(SettingsError, match="setting 'video' is not for a batch job"):
        pixray.batch(["a red apple"], video=True, progress=False)
    jobs = JobsFile("python", [Entry("job 1", {"prompts": "a coin", "outdir": "mine"})])
    [job] = expand_jobs(jobs, dict(FAST), 1)
    assert job.error.startswith("job 1: setting 'outdir' is not for a batch job")


# -- a batch, in this process -----------------------------------------------------------------------

def test_batch_writes_sprites_sheet_atlases_and_index(tmp_path):
    result = quiet_batch([{"prompts": "a red apple", "variants": 2}, "an old key", "a coin"],
                         palette="shared", colors=8, padding=2, outdir=str(tmp_path / "set"), workers=1)
    folder = tmp_path / "set"
    assert result.outdir == folder and not result.failed
    names = ["a-red-apple-1", "a-red-apple-2", "an-old-key", "a-coin"]
    assert [j.name for j in result.jobs] == names and {j.status for j in result.jobs} == {"done"}
    # one palette for the set: every sprite is drawn in it, as an indexed PNG holding all of it in one order
    palette = load_palette(str(folder / "palette.hex"))
    assert 2 <= len(palette) <= 8 and result.palette == [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in palette.colors]
    for job in result.jobs:
        sprite = Image.open(job.sprite)
        assert sprite.mode == "P" and sprite.size == (16, 16)
        assert colours(job.sprite) <= set(palette.colors)
    # the sheet: each frame of the TexturePacker atlas is exactly that sprite, with padding between
    sheet = Image.open(folder / "sheet.png").convert("RGBA")
    atlas = json.loads((folder / "sheet.json").read_text())
    assert atlas["meta"]["image"] == "sheet.png" and atlas["meta"]["size"] == {"w": sheet.width, "h": sheet.height}
    assert list(atlas["frames"]) == names
    for job in result.jobs:
        rect = atlas["frames"][job.name]["frame"]
        crop = sheet.crop((rect["x"], rect["y"], rect["x"] + rect["w"], rect["y"] + rect["h"]))
        assert np.array_equal(np.asarray(crop), np.asarray(Image.open(job.sprite).convert("RGBA")))
    xs = sorted({f["frame"]["x"] for f in atlas["frames"].values()})
    assert xs[0] == 2 and xs[1] - xs[0] == 16 + 2
    # Aseprite's JSON: frames in order, the variants of one prompt as a frame tag
    aseprite = json.loads((folder / "sheet.aseprite.json").read_text())
    assert [f["filename"] for f in aseprite["frames"]] == names
    assert aseprite["meta"]["frameTags"] == [{"name": "a-red-apple", "from": 0, "to": 1, "direction": "forward"}]
    assert Image.open(folder / "contact.png").width > sheet.width
    # index.json: every job with its seed, status, files (checked by hash), metrics and time
    index = json.loads((folder / "index.json").read_text())
    assert index["source"] == "python" and [j["status"] for j in index["jobs"]] == ["done"] * 4
    for entry in index["jobs"]:
        assert entry["seconds"] > 0 and entry["metrics"]["width"] == 16 and entry["seed"] is not None
        assert all(digest(folder / name) == sha for name, sha in entry["files"].items())
    assert not (folder / ".partial").exists()


def test_shared_palette_keeps_each_sprites_transparency(tmp_path):
    result = quiet_batch(["a red apple", "a coin"], palette="shared", background="remove", outdir=str(tmp_path / "b"),
                         workers=1)
    for job in result.jobs:
        own = np.asarray(Image.open(tmp_path / "b" / "jobs" / job.name / "output_sprite.png").convert("RGBA"))[..., 3]
        shared = np.asarray(Image.open(job.sprite).convert("RGBA"))[..., 3]
        assert (own == 0).any() and np.array_equal(own, shared)


def test_given_palette_is_every_jobs_palette(tmp_path):
    result = quiet_batch(["a red apple", "a coin"], palette="pico8", outdir=str(tmp_path / "b"), workers=1)
    pico8 = set(load_palette("pico8").colors)
    for job in result.jobs:
        assert colours(job.sprite) <= pico8
        assert colours(Path(job.sprite).parents[1] / "jobs" / job.name / "output_sprite.png") <= pico8


def test_a_bad_job_names_its_line_and_the_others_run(tmp_path, capsys):
    jobs = write(tmp_path / "set.yaml", f"""settings:
{FAST_YAML}
jobs:
  - a red apple
  - prompts: a coin
    pixel_size: 0
  - [not, a, job]
  - an old key
""")
    result = pixray.batch(str(jobs), outdir=str(tmp_path / "out"), workers=1, progress=False)
    status = {j.name: (j.status, j.error) for j in result.jobs}
    assert status["a-red-apple"][0] == status["an-old-key"][0] == "done"
    assert status["a-coin"][0] == "failed" and status["a-coin"][1].startswith("set.yaml line 10: setting 'pixel_size'")
    assert status["job-3"][1] == "set.yaml line 12: a job is a prompt or a mapping of settings, not list"
    assert "set.yaml line 10" in capsys.readouterr().err
    assert len(json.loads((tmp_path / "out" / "sheet.json").read_text())["frames"]) == 2


def test_a_shared_setting_every_job_fails_on_is_one_error_before_anything(tmp_path):
    with pytest.raises(SettingsError, match=r"setting 'iterations': -4 is out of range"):
        quiet_batch(["a red apple", "a coin"], iterations=-4, outdir=str(tmp_path / "never"))
    # checks that need a whole job's settings: when every job fails them alike, the batch says it once
    with pytest.raises(SettingsError, match=r"setting 'palette_mode': 'hard' does not work with drawer 'sprite'.* \(all 2 jobs\)$"):
        quiet_batch(["a red apple", "a coin"], palette_mode="hard", outdir=str(tmp_path / "never"))
    assert not (tmp_path / "never").exists()


def test_rerun_skips_finished_jobs_and_redoes_changed_ones(tmp_path):
    out = str(tmp_path / "b")
    first = quiet_batch(["a red apple", "a coin"], outdir=out, workers=1)
    apple = Path(out) / "jobs" / "a-red-apple" / "output_sprite.png"
    made = apple.stat().st_mtime_ns
    again = quiet_batch(["a red apple", "a coin"], outdir=out, workers=1)
    assert again.skipped == 2 and apple.stat().st_mtime_ns == made
    assert [j.seconds for j in again.jobs] == [j.seconds for j in first.jobs]  # not run again
    # a file changed since: that job runs again, and the changed folder is kept beside the new one
    coin = Path(out) / "jobs" / "a-coin" / "metrics.json"
    coin.write_text(coin.read_text() + " ")
    third = quiet_batch(["a red apple", "a coin"], outdir=out, workers=1)
    assert third.skipped == 1 and not third.failed
    assert (Path(out) / "jobs" / "a-coin.replaced-1" / "metrics.json").read_text().endswith(" ")
    # a changed recipe (more iterations) is a different job
    fourth = quiet_batch(["a red apple", "a coin"], outdir=out, workers=1, iterations=4)
    assert fourth.skipped == 0


def test_another_batch_never_writes_into_the_same_folder(tmp_path, capsys):
    out = tmp_path / "b"
    quiet_batch(["a red apple"], outdir=str(out), workers=1)
    other = pixray.batch(str(write(tmp_path / "other.txt", "a coin\n")), outdir=str(out), workers=1, **FAST)
    assert other.outdir == tmp_path / "b_2"
    assert "holds something else; this batch writes to" in capsys.readouterr().err
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    assert quiet_batch(["a coin"], outdir=str(tmp_path / "mine"), workers=1).outdir == tmp_path / "mine_2"


def test_a_running_batch_locks_its_folder(tmp_path):
    import fcntl

    out = tmp_path / "b"
    quiet_batch(["a red apple"], outdir=str(out), workers=1)
    with open(out / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(SettingsError, match="is in use by another pixray batch"):
            quiet_batch(["a red apple"], outdir=str(out), workers=1)


def test_job_warnings_are_recorded_with_the_job(tmp_path):
    result = quiet_batch(["a zorblax"], outdir=str(tmp_path / "b"), workers=1)
    entry = json.loads((tmp_path / "b" / "index.json").read_text())["jobs"][0]
    assert result.jobs[0].status == "done"
    assert any("does not know" in text for text in entry["warnings"])


# -- worker processes and Ray -----------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.timeout(300)
def test_worker_processes_draw_the_same_bytes_as_one_process(tmp_path):
    jobs = ["a red apple", "a coin", "an old key"]
    alone = quiet_batch(jobs, palette="shared", outdir=str(tmp_path / "one"), workers=1)
    pool = quiet_batch(jobs, palette="shared", outdir=str(tmp_path / "two"), workers=2, threads=1)
    for a, b in zip(alone.jobs, pool.jobs):
        assert digest(a.sprite) == digest(b.sprite)
        assert [digest(f) for f in a.files if f.suffix == ".png"] == [digest(f) for f in b.files if f.suffix == ".png"]
    assert digest(tmp_path / "one" / "sheet.png") == digest(tmp_path / "two" / "sheet.png")
    peaks = [e["peak_rss_mb"] for e in json.loads((tmp_path / "two" / "index.json").read_text())["jobs"]]
    assert all(p > 50 for p in peaks)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_killed_worker_process_is_replaced_and_its_job_retried(tmp_path):
    from pixray.settings import resolve

    settings = resolve({**FAST, "prompts": "a coin", "iterations": 300, "seed": 1}, announce=False)
    backend = LocalBackend(workers=2, threads=1, retries=1)
    killed = []

    def kill_the_worker(name, iteration, total):  # called as the job reports progress: it is mid-job
        if not killed:
            killed.append(backend._processes[0].process.pid)
            os.kill(killed[0], signal.SIGKILL)

    [finished] = list(backend.run([Task("coin", settings)], kill_the_worker))
    assert killed and finished.output is not None and finished.attempts == 2
    assert finished.output.iterations == 300


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ray_draws_the_same_bytes_and_retries_a_killed_worker(tmp_path):
    ray = pytest.importorskip("ray")
    from pixray.batching.ray_backend import RayBackend
    from pixray.settings import resolve

    jobs = ["a red apple", "a coin"]
    local = quiet_batch(jobs, palette="shared", outdir=str(tmp_path / "local"), workers=1)
    remote = quiet_batch(jobs, palette="shared", outdir=str(tmp_path / "ray"), backend="ray", workers=2, threads=1)
    assert [digest(j.sprite) for j in local.jobs] == [digest(j.sprite) for j in remote.jobs]
    assert digest(tmp_path / "local" / "sheet.png") == digest(tmp_path / "ray" / "sheet.png")
    assert json.loads((tmp_path / "ray" / "index.json").read_text())["backend"] == "ray"
    assert not ray.is_initialized()  # the batch started its local Ray and shut it down

    # long enough that the driver's progress polls (about one a second) find it running
    settings = resolve({**FAST, "prompts": "a coin", "iterations": 600, "seed": 1}, announce=False)
    backend = RayBackend(workers=1, threads=1, retries=1, cores=2)
    killed = []

    def kill_the_worker(name, iteration, total):
        if not killed:
            killed.append(ray.get(backend.actors[0].pid.remote()))
            os.kill(killed[0], signal.SIGKILL)

    [finished] = list(backend.run([Task("coin", settings)], kill_the_worker))
    assert killed and finished.error is None and finished.output.iterations == 600


# -- the command ------------------------------------------------------------------------------------

def _ctrl_c_as_in_a_terminal() -> None:
    # a test run started in the background (nohup, CI runners) ignores SIGINT, its children inherit that
    # and Python then installs no Ctrl-C handler: the batch would see the test's SIGINT only by luck
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(args, tmp_path, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "pixray.cli", "batch", *args], cwd=tmp_path,
                            env=isolated_env(tmp_path / "home"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_ctrl_c_as_in_a_terminal, **kwargs)


def _finished_jobs(folder: Path) -> dict[str, dict]:
    """The jobs whose folders are in place, by name: their records (job.json)."""
    return {p.parent.name: json.loads(p.read_text()) for p in folder.glob("jobs/*/job.json")}


def _wait_for_done(folder: Path, process, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if _finished_jobs(folder):
            return
        time.sleep(0.05)
    raise AssertionError(f"no job finished: {process.communicate()}")


# jobs long enough (~1.5 s) that a signal sent when the first is done lands before the last is
SLOWER = ["--clip_models", "embedded", "--drawer", "sprite", "--iterations", "150", "--num_cuts", "2",
          "--size", "64", "--pixel_size", "16"]


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_cli_killed_halfway_then_run_again_finishes_only_what_was_missing(tmp_path):
    jobs = write(tmp_path / "items.txt", "a red apple\na coin\nan old key\na shield\na bomb\n")
    args = [str(jobs), "--outdir", "b", "--workers", "1", *SLOWER]
    first = _cli(args, tmp_path)
    _wait_for_done(tmp_path / "b", first)
    first.kill()  # SIGKILL: no chance to tidy up
    first.communicate()
    json.loads((tmp_path / "b" / "index.json").read_text())  # still valid JSON
    done = {name: record["files"] for name, record in _finished_jobs(tmp_path / "b").items()}
    assert 1 <= len(done) < 5
    second = _cli(args, tmp_path)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert f"{len(done)} of 5 jobs were finished by an earlier run" in err
    assert f"5 of 5 jobs done ({len(done)} from an earlier run)" in out
    assert err.count("pixray: [") == 5 - len(done)  # one line per job that ran, no more
    after = {j["name"]: j["files"] for j in json.loads((tmp_path / "b" / "index.json").read_text())["jobs"]}
    assert all(after[name] == files for name, files in done.items())
    assert (tmp_path / "b" / "sheet.png").exists() and len(list((tmp_path / "b" / "sprites").iterdir())) == 5


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("sig, code, said", [(signal.SIGINT, 130, "interrupted"),
                                              (signal.SIGTERM, 143, "stopped (SIGTERM)")])
def test_cli_ctrl_c_keeps_finished_jobs_and_a_valid_index(tmp_path, sig, code, said):
    jobs = write(tmp_path / "items.yaml", "jobs: [a red apple, a coin, an old key, a shield, a bomb]\n")
    process = _cli([str(jobs), "--outdir", "b", "--workers", "2", "--threads", "1", *SLOWER], tmp_path)
    _wait_for_done(tmp_path / "b", process)
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert f"pixray: {said}:" in err and "Traceback" not in err
    index = json.loads((tmp_path / "b" / "index.json").read_text())
    statuses = [j["status"] for j in index["jobs"]]
    assert "done" in statuses and "pending" in statuses and "failed" not in statuses
    assert (tmp_path / "b" / "sheet.png").exists()  # a sheet of the finished ones


def test_cli_batch_errors_are_one_line(tmp_path):
    from pixray.cli import main

    assert main(["batch", str(tmp_path / "none.txt")]) == 2
    jobs = write(tmp_path / "items.txt", "a red apple\n")
    assert main(["batch", str(jobs), "--workers", "0"]) == 2
    assert main(["batch", str(jobs), "--iteratons", "3"]) == 2


def test_cli_batch_runs_and_reports(tmp_path, capsys):
    from pixray.cli import main

    jobs = write(tmp_path / "set.yaml", f"settings:\n{FAST_YAML}\njobs:\n  - a red apple\n  - prompts: a coin\n"
                                        f"    pixel_size: 0\n")
    code = main(["batch", str(jobs), "--palette", "shared", "--outdir", "b", "--workers", "1", "--columns", "1"])
    captured = capsys.readouterr()
    assert code == 1  # a job failed
    assert "pixray: error: set.yaml line 10: setting 'pixel_size'" in captured.err
    assert "pixray: [1/1] a-red-apple: 16x16 cells" in captured.err
    assert "1 of 2 jobs done, 1 failed; wrote sheet.png, sheet.json, sheet.aseprite.json, contact.png, index.json" \
        in captured.out
    atlas = json.loads(Path("b/sheet.json").read_text())
    assert atlas["meta"]["size"] == {"w": 18, "h": 18}


def test_a_worker_loads_each_model_once_for_all_its_jobs():
    from pixray.perceptors import ModelCache
    from pixray.session import Session
    from pixray.settings import resolve

    cache = ModelCache()
    first, second = (Session(resolve({**FAST, "prompts": p, "seed": 1}, announce=False), cache)
                     for p in ("a red apple", "a coin"))
    assert first.perceptors[0] is second.perceptors[0]
    assert first.drawer.prior is second.drawer.prior  # the sprite drawer's decoder too
    alone = Session(resolve({**FAST, "prompts": "a coin", "seed": 1}, announce=False))
    assert alone.drawer.prior is not second.drawer.prior


def test_batch_options_in_the_jobs_file_and_the_call(tmp_path):
    jobs = write(tmp_path / "set.yaml", f"settings:\n{FAST_YAML}\nworkers: 1\nbackend: local\npadding: 0\n"
                                        f"outdir: {tmp_path / 'from-file'}\njobs: [a red apple, a coin]\n")
    result = pixray.batch(str(jobs), progress=False)
    assert result.outdir == tmp_path / "from-file"
    assert Image.open(result.files["sheet"]).size == (32, 16)  # 2 columns of 16, no padding
    again = pixray.batch(str(jobs), padding=2, outdir=str(tmp_path / "from-call"), progress=False)
    assert again.outdir == tmp_path / "from-call" and Image.open(again.files["sheet"]).size == (2 + 36, 2 + 18)


def test_a_damaged_job_record_means_the_job_runs_again(tmp_path):
    out = str(tmp_path / "b")
    quiet_batch(["a coin"], outdir=out, workers=1)
    (tmp_path / "b" / "jobs" / "a-coin" / "job.json").write_text("[1, 2]")
    again = quiet_batch(["a coin"], outdir=out, workers=1)
    assert again.skipped == 0 and again.jobs[0].status == "done"
