"""cog predictor: `cog predict -i prompts="a red apple"`; yields a progress image every
display_every iterations (each a new file), then the final picture."""

from __future__ import annotations

import tempfile
from typing import Iterator

from cog import BasePredictor, Input, Path

from pixray.drawers import BUILTIN
from pixray.perceptors import ModelCache
from pixray.quantize import DITHERS
from pixray.session import Session
from pixray.settings import ASPECT_SIZES, ASPECTS, QUALITIES, parse_yaml_text, resolve

DRAWERS = list(BUILTIN)


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.models = ModelCache()  # CLIP stays loaded between predictions

    def predict(
        self,
        prompts: str = Input(description="what to draw; several prompts separated by |, each 'text:weight'",
                             default="a red apple #pixelart"),
        drawer: str = Input(description="what draws the picture", choices=DRAWERS, default="pixel"),
        aspect: str = Input(description="shape of the picture", choices=list(ASPECTS), default="widescreen"),
        pixel_width: int = Input(description="cells across (0: the drawer's default)", default=0, ge=0, le=512),
        pixel_height: int = Input(description="cells down (0: follows the aspect)", default=0, ge=0, le=512),
        palette: str = Input(description="pico8, nes, gameboy, cga, ega, c64, 1bit, grayscale4, a DSL like "
                                         "'red->rust\\\\8;[black]', or empty for colours chosen from the picture",
                             default=""),
        colors: int = Input(description="without a palette: colours chosen from the picture (0: every colour)",
                            default=16, ge=0, le=256),
        dither: str = Input(description="dithering when mapping to the palette", choices=list(DITHERS),
                            default="none"),
        quality: str = Input(description="preset for models, cutouts and iterations", choices=list(QUALITIES),
                             default="normal"),
        iterations: int = Input(description="optimisation steps (0: from quality)", default=0, ge=0, le=2000),
        display_every: int = Input(description="yield a progress image every N iterations", default=20, ge=1,
                                   le=1000),
        seed: int = Input(description="random seed (-1: random)", default=-1, ge=-1),
        init_image: Path = Input(description="optional picture to start from", default=None),
        clip_models: str = Input(description="CLIP models, comma-separated (empty: from quality)", default=""),
        settings: str = Input(description="more settings as YAML text, pixray's way ('filters: wallpaper', one "
                                          "per line); they win over the fields above", default=""),
    ) -> Iterator[Path]:
        values = dict(prompts=prompts, drawer=drawer, aspect=aspect, quality=quality, dither=dither, colors=colors,
                      display_every=display_every, save_every=0, outdir=tempfile.mkdtemp(prefix="pixray-"))
        if pixel_width:
            base_w, base_h = ASPECT_SIZES[aspect]
            values["pixel_size"] = (pixel_width, pixel_height or max(1, round(pixel_width * base_h / base_w)))
        if palette.strip():
            values["palette"] = palette
        if iterations:
            values["iterations"] = iterations
        if seed >= 0:
            values["seed"] = seed
        if init_image is not None:
            values["init_image"] = str(init_image)
        if clip_models.strip():
            values["clip_models"] = clip_models
        extra = parse_yaml_text(settings, "input 'settings'")
        for name in ("outdir", "output", "overwrite"):  # a prediction's files stay in its own folder
            extra.pop(name, None)
        values.update(extra)
        session = Session(resolve(values), self.models)
        for progress in session.run_iter(every=display_every):
            if progress.iteration < session.settings.iterations:
                path = Path(session.outdir) / f"progress_{progress.iteration:05d}.png"
                progress.image.save(path)
                yield path
        yield Path(session.result.files[0])
