"""Run folders and files: output.png with metadata, the native sprite, settings.yaml, steps/."""

from __future__ import annotations

import io
import json
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .errors import SettingsError
from .metrics import measure
from .version import __version__

# Where a run's files go is not part of what made the picture, so it stays out of PNG metadata
# (and two runs with the same settings give byte-identical PNGs).
LOCATION_SETTINGS = ("outdir", "output", "overwrite")


def _fill(template: str, now: time.struct_time) -> str:
    return template.replace("%DATE%", time.strftime("%Y%m%d", now)).replace("%TIME%", time.strftime("%H%M%S", now))


def check_outdir(template: str) -> None:
    """Fail early, before any model loads, if the run's folder could not be made: the nearest existing
    folder on its path must be a folder we can write into (tested with an unnamed temporary file)."""
    existing = Path(_fill(template, time.localtime()).replace("%SEQ%", "001"))
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise SettingsError(f"setting 'outdir': {str(existing)!r} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise SettingsError(f"setting 'outdir': cannot write into {str(existing)!r} ({err.strerror or err})") from None


def resolve_outdir(template: str, overwrite: bool = False, now: time.struct_time | None = None) -> Path:
    """Fill %DATE%/%TIME%/%SEQ% and create the folder. An existing non-empty folder is never reused
    unless `overwrite` (and never with %SEQ%, which always takes the next free number); otherwise a
    _2, _3 ... suffix is added."""
    text = _fill(template, now or time.localtime())

    def candidates():
        if "%SEQ%" in text:
            for seq in range(1, 1_000_000):
                yield Path(text.replace("%SEQ%", f"{seq:03d}"))
        else:
            yield Path(text)
            for suffix in range(2, 1_000_000):
                yield Path(f"{text.rstrip('/')}_{suffix}")

    reuse = overwrite and "%SEQ%" not in text
    for path in candidates():
        if reuse or not path.exists() or (path.is_dir() and not any(path.iterdir())):
            try:
                path.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                continue  # a file of that name: try the next
            except OSError as err:
                raise SettingsError(f"setting 'outdir': cannot create {str(path)!r} ({err.strerror or err})") from None
            return path
    raise SettingsError(f"setting 'outdir': no free folder name for {template!r}")


def png_metadata(settings: dict, seed: int, iteration: int) -> PngInfo:
    info = PngInfo()
    recipe = {k: v for k, v in settings.items() if k not in LOCATION_SETTINGS}
    recipe["seed"] = seed
    info.add_text("Software", f"pixray {__version__}")
    info.add_text("Description", " | ".join(settings.get("prompts") or []))
    info.add_text("pixray:settings", json.dumps(recipe, sort_keys=True))
    info.add_text("pixray:seed", str(seed))
    info.add_text("pixray:iteration", str(iteration))
    return info


def crisp(image: Image.Image, factor: int) -> Image.Image:
    """Nearest-neighbour upscale: pixels stay sharp squares."""
    return image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)


def write_video(frames: list[Image.Image], path: Path, fps: int) -> Path:
    """MP4 (H.264, yuv420p) through imageio-ffmpeg's bundled ffmpeg. Frames are upscaled by an even
    factor to at least 512 px, so pixels survive the codec's chroma subsampling and sizes are even."""
    import imageio.v2 as imageio

    longest = max(frames[0].size)
    factor = max(2, 2 * -(-512 // (2 * longest)))
    with imageio.get_writer(path, fps=fps, codec="libx264", quality=8, macro_block_size=2,
                            pixelformat="yuv420p") as writer:
        for frame in frames:
            writer.append_data(np.asarray(crisp(frame, factor)))
    return path


def write_gif(frames: list[Image.Image], path: Path, fps: int) -> Path:
    """Looping animated GIF (each frame palettised without dithering)."""
    factor = max(1, -(-256 // max(frames[0].size)))
    first, *rest = [crisp(frame, factor) for frame in frames]
    first.save(path, save_all=True, append_images=rest, duration=round(1000 / fps), loop=0, optimize=False)
    return path


@dataclass
class RunResult:
    image: Image.Image
    sprite: Image.Image | None
    outdir: Path
    files: list[Path] = field(default_factory=list)
    seed: int = 0
    iterations: int = 0
    interrupted: bool = False
    frames: int = 0          # progress frames this run wrote to steps/
    metrics: dict | None = None  # pixray.metrics of the sprite (or picture), also in metrics.json


class OutputWriter:
    """Owns one run folder. settings.yaml is written at once, so even a crash leaves the recipe."""

    def __init__(self, settings, seed: int):
        self.settings = settings.to_dict()
        self.settings["seed"] = seed  # the seed actually used, so the YAML reproduces the run
        self.seed = seed
        self.outdir = resolve_outdir(settings.outdir, settings.overwrite)
        self._remove_stale_frames()
        self.settings_path = self.outdir / "settings.yaml"
        self.settings_path.write_text(yaml.safe_dump(self.settings, sort_keys=False, allow_unicode=True))
        self.output_name = settings.output
        self.save_every = settings.save_every
        movie = settings.video or settings.gif
        # Movie frames follow save_every, else display_every, else ~50 frames per run.
        self.movie_every = (settings.save_every or settings.display_every or max(1, settings.iterations // 50)
                            if movie else 0)
        self.video, self.gif, self.fps = settings.video, settings.gif, settings.video_fps
        self.frames: list[Image.Image] = []
        self.frames_written = 0

    def _remove_stale_frames(self) -> None:
        """A reused (overwrite) folder must not mix an earlier run's frames with this run's."""
        for old in (self.outdir / "steps").glob("[0-9][0-9][0-9][0-9][0-9][0-9].png"):
            old.unlink()

    def wants_frame(self, iteration: int) -> bool:
        return any(every and iteration % every == 0 for every in (self.save_every, self.movie_every))

    def save_png(self, image: Image.Image, path: Path, iteration: int) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png_bytes(image, self.settings, self.seed, iteration))
        return path

    def save_frame(self, image: Image.Image, iteration: int) -> None:
        if self.save_every and iteration % self.save_every == 0:
            self.save_png(image, self.outdir / "steps" / f"{iteration:06d}.png", iteration)
            self.frames_written += 1
        if self.movie_every and iteration % self.movie_every == 0:
            self.frames.append(image.convert("RGB"))

    def finish(self, drawer_output, iteration: int, interrupted: bool = False) -> RunResult:
        named, metrics = final_files(drawer_output, self.settings, self.seed, iteration)
        files = []
        for name, data in named.items():
            path = self.outdir / name
            path.write_bytes(data)
            files.append(path)
        stem = re.sub(r"\.png$", "", self.output_name, flags=re.I)
        if self.frames:
            frames = self.frames + [drawer_output.image.convert("RGB")]
            if self.video:
                files.append(write_video(frames, self.outdir / f"{stem}.mp4", self.fps))
            if self.gif:
                files.append(write_gif(frames, self.outdir / f"{stem}.gif", self.fps))
        files.append(self.settings_path)
        return RunResult(drawer_output.image, drawer_output.sprite, self.outdir, files, self.seed, iteration,
                         interrupted, self.frames_written, metrics)


def png_bytes(image: Image.Image, settings: dict | None = None, seed: int = 0, iteration: int = 0) -> bytes:
    """The PNG file of `image`, with the run's recipe in its metadata when `settings` are given."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=png_metadata(settings, seed, iteration) if settings is not None else None)
    return buffer.getvalue()


def final_files(drawer_output, settings: dict, seed: int, iteration: int) -> tuple[dict[str, bytes], dict]:
    """A finished run's files by name (the picture, the native sprite, the drawer's own files such as
    palette.gpl, metrics.json) and its metrics; a run folder and a batch job hold the same bytes."""
    output_name = settings["output"]
    stem = re.sub(r"\.png$", "", output_name, flags=re.I)
    files = {output_name: png_bytes(drawer_output.image, settings, seed, iteration)}
    if drawer_output.sprite is not None:
        files[f"{stem}_sprite.png"] = png_bytes(drawer_output.sprite, settings, seed, iteration)
    files.update(drawer_output.files)
    metrics = measure(drawer_output.sprite if drawer_output.sprite is not None else drawer_output.image)
    files["metrics.json"] = (json.dumps({**metrics.to_dict(), "warnings": metrics.warnings()}, indent=1)
                             + "\n").encode()
    return files, metrics.to_dict()
