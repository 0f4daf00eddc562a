"""`pixray` command line: argparse over the same settings schema as the Python API."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from .errors import PixrayError
from .settings import ALIASES, Settings, load_yaml, normalise, resolve

GROUP_TITLES = {
    "prompts": "prompts",
    "drawer": "drawer and canvas",
    "palette": "palette and export",
    "losses": "custom losses and init anchoring",
    "perception": "perception (CLIP)",
    "optimisation": "optimisation",
    "output": "output",
}


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: only options the user typed reach the namespace, so presets can fill the rest.
    parser = argparse.ArgumentParser(
        prog="pixray", argument_default=argparse.SUPPRESS,
        description="Turn a text prompt (and optionally an init image) into pixel art, guided by CLIP.",
        epilog="Options accept snake_case or dash-case (--pixel_size or --pixel-size).")
    parser.add_argument("--config", metavar="FILE.yaml", help="read settings from a YAML file; options "
                        "given on the command line win")
    groups = {key: parser.add_argument_group(title) for key, title in GROUP_TITLES.items()}
    aliases_of: dict[str, list[str]] = {}
    for alias, target in ALIASES.items():
        aliases_of.setdefault(target, []).append(alias)
    for f in dataclasses.fields(Settings):
        meta = f.metadata
        names = [f.name] + aliases_of.get(f.name, [])
        flags = []
        for name in names:
            flags += [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
        if f.name == "prompts":
            flags.insert(0, "-p")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        shown = "" if default in (None, []) else f" (default: {default})"
        kwargs = dict(dest=f.name, help=(meta["help"] + shown).replace("%", "%%"))
        if meta["choices"]:
            kwargs["choices"] = meta["choices"]
        if meta["nargs"]:
            kwargs["nargs"] = meta["nargs"]
        if meta["metavar"]:
            kwargs["metavar"] = meta["metavar"]
        if f.type in (bool, "bool"):
            kwargs.update(nargs="?", const="true", metavar="BOOL")
        groups[meta["group"]].add_argument(*flags, **kwargs)
    return parser


def _progress_bar(total: int):
    from tqdm import tqdm

    bar = tqdm(total=total, unit="it", dynamic_ncols=True)

    def update(progress):
        if progress.losses:
            bar.set_postfix(loss=f"{progress.losses['total']:.4f}", refresh=False)
        bar.update(progress.iteration - bar.n)
        if progress.iteration >= total:
            bar.close()

    return update, bar


def main(argv: list[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    session = None
    try:
        values = load_yaml(args.pop("config")) if "config" in args else {}
        values.update(normalise(args))
        settings = resolve(values)
        from .session import Session, pick_device  # heavy imports only once the settings are good

        device = pick_device(settings.device)
        print(f"pixray: loading {', '.join(settings.clip_models)} on {device} ...", file=sys.stderr)
        session = Session(settings)
        update, bar = _progress_bar(settings.iterations)
        result = session.run(callback=update, every=1)
        bar.close()
    except PixrayError as err:
        print(f"pixray: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        where = f"; saved the current image and settings in {session.outdir}" if session and session.outdir else ""
        print(f"\npixray: interrupted at iteration {session.iteration if session else 0}{where}", file=sys.stderr)
        return 130
    names = ", ".join(p.name for p in result.files)
    frames = len(list((result.outdir / "steps").glob("*.png")))
    extra = f" and {frames} frames in steps/" if frames else ""
    print(f"pixray: wrote {names}{extra} to {result.outdir} (seed {result.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
