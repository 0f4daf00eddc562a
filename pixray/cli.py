"""`pixray` command line: argparse over the same settings schema as the Python API."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import re
import sys
import warnings

from .compat import PIXRAY_IGNORED, PIXRAY_SHORT_FLAGS, PIXRAY_SPELLINGS
from .errors import PixrayError, SettingsError
from .settings import ALIASES, Settings, canonical_name, load_yaml, normalise, resolve
from .signals import Terminated

GROUP_TITLES = {
    "prompts": "prompts",
    "drawer": "drawer and canvas",
    "filters": "filters (what the cutouts see)",
    "palette": "palette and export",
    "losses": "custom losses and init anchoring",
    "perception": "perception (CLIP)",
    "optimisation": "optimisation",
    "output": "output",
}


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line, like every other pixray error (no usage block)."""

    def error(self, message: str):
        self.exit(2, f"pixray: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: only options the user typed reach the namespace, so presets can fill the rest.
    parser = _Parser(
        prog="pixray", argument_default=argparse.SUPPRESS,
        description="Turn a text prompt (and optionally an init image) into pixel art, guided by CLIP.",
        epilog="Options accept snake_case or dash-case (--pixel_size or --pixel-size).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_pixelate_command(commands)
    _add_lint_command(commands)
    _add_batch_command(commands)
    parser.add_argument("--config", metavar="FILE.yaml", help="read settings from a YAML file; options "
                        "given on the command line win")
    _add_settings(parser)
    return parser


def _add_settings(parser: argparse.ArgumentParser) -> None:
    """Every setting of the schema as an option (and pixray's spellings, hidden)."""
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
    # pixray's keys that stand for ours or are ignored with a warning: accepted, not listed
    for name in [*PIXRAY_SPELLINGS, *PIXRAY_IGNORED]:
        parser.add_argument(f"--{name}", dest=name, nargs="?", const="true", help=argparse.SUPPRESS)


def _add_batch_command(commands) -> None:
    from .batching.jobs import BACKENDS

    sub = commands.add_parser(
        "batch", help="many prompts → many sprites, one palette, one sprite sheet (local workers or Ray)",
        description="Run every job of JOBS (a .txt file: one prompt per line; or a .yaml file: settings, jobs, "
                    "batch options) into one folder: jobs/NAME/ per job, sprites/, sheet.png with sheet.json "
                    "(TexturePacker JSON hash) and sheet.aseprite.json, contact.png and index.json. Running it "
                    "again runs only what is not finished. Any setting below applies to every job.",
        argument_default=argparse.SUPPRESS)
    sub.add_argument("jobs", metavar="JOBS", help="jobs file (.txt or .yaml)")
    batch = sub.add_argument_group("batch")
    batch.add_argument("--workers", type=int, help="worker processes (default: the cores / threads)")
    batch.add_argument("--threads", type=int, help="torch threads per worker (default: the cores / workers)")
    batch.add_argument("--backend", choices=BACKENDS, help="local worker processes (default) or ray")
    batch.add_argument("--address", help="the Ray cluster to use (default: RAY_ADDRESS, else a local Ray)")
    batch.add_argument("--gpus_per_worker", "--gpus-per-worker", type=float,
                       help="Ray: GPUs each worker reserves (default 0)")
    batch.add_argument("--variants", type=int, help="seeds per job (default 1): NAME-1, NAME-2, ...")
    batch.add_argument("--padding", type=int, help="transparent pixels between sprites on the sheet (default 1)")
    batch.add_argument("--columns", type=int, help="sheet columns (default: about square)")
    batch.add_argument("--retries", type=int, help="tries more for a job whose worker died (default 2)")
    _add_settings(sub)


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


def _add_pixelate_command(commands) -> None:
    from .quantize import DITHERS, SPACES

    sub = commands.add_parser("pixelate", help="photo or drawing → pixel art, offline, no neural model",
                              description="Downscale by area, fit a palette, dither; writes OUT (upscaled), "
                                          "OUT_sprite.png (one pixel per cell) and OUT.gpl.")
    sub.add_argument("input", metavar="IN", help="image file")
    sub.add_argument("output", metavar="OUT", help="output .png")
    sub.add_argument("--pixel_size", "--pixel-size", nargs="+", type=_cells, default=["auto"], metavar="N",
                     help="cells: WIDTH [HEIGHT] (height follows the picture if omitted), or auto (default): "
                          "upscaled pixel art comes back at its own grid, anything else 64 cells across")
    sub.add_argument("--palette", help="palette name, file or DSL (default: colours of the image)")
    sub.add_argument("--colors", type=int, default=16, help="colours taken from the image when no palette")
    sub.add_argument("--dither", choices=DITHERS, default="none")
    sub.add_argument("--palette_space", "--palette-space", choices=SPACES, default="auto")
    sub.add_argument("--scale", type=int, help="integer upscale of OUT (default: back to about the input size)")
    sub.add_argument("--cleanup", action="store_true", help="recolour lone stray pixels")
    sub.add_argument("--overwrite", action="store_true", help="replace existing output files")


def _cells(text: str):
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of cells or auto") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} cells: allowed from 1")
    return value


def _add_lint_command(commands) -> None:
    sub = commands.add_parser("lint", help="measure how well pictures read as pixel art",
                              description="Colours, orphan pixels, half-transparent pixels, jaggies, and the "
                                          "cell size and offset of an upscaled picture. Exit 1 when a "
                                          "picture has warnings.")
    sub.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    sub.add_argument("--json", action="store_true", help="print one JSON object per image")


def _lint(args: dict) -> int:
    import json

    from .image_files import open_image
    from .metrics import measure, report

    warned = False
    for path in args["images"]:
        metrics = measure(open_image(path, "image", keep_alpha=True))
        warned |= bool(metrics.warnings())
        print(json.dumps({"image": path, **metrics.to_dict(), "warnings": metrics.warnings()})
              if args["json"] else report(path, metrics))
    return 1 if warned else 0


def _pixelate(args: dict) -> int:
    from .pixelation import pixelate, save_pixel_art

    sizes = args["pixel_size"]
    if "auto" in sizes and len(sizes) > 1:
        raise SettingsError("setting 'pixel_size': auto stands alone (or give WIDTH [HEIGHT] in cells)")
    art = pixelate(args["input"], pixel_size=args["pixel_size"], palette=args["palette"], dither=args["dither"],
                   colors=args["colors"], scale=args["scale"], palette_space=args["palette_space"],
                   cleanup=args["cleanup"])
    paths = save_pixel_art(art, args["output"], overwrite=args["overwrite"])
    found = (f"; found {art.grid.cell}-pixel cells" if art.grid and art.grid.cell > 1 else
             "; no pixel grid found, so 64 cells across" if art.grid else "")
    print(f"pixray: wrote {', '.join(str(p) for p in paths)} ({art.sprite.width}x{art.sprite.height} cells, "
          f"{len(art.palette)} colours{found})")
    return 0


def _batch(args: dict) -> int:
    from .batching import BatchInterrupted, BatchOptions, read_jobs_file, run_batch
    from .batching.jobs import BATCH_OPTIONS

    jobs_file = read_jobs_file(args.pop("jobs"))
    given = {name: args.pop(name) for name in BATCH_OPTIONS if name in args}
    options = BatchOptions(**{**jobs_file.options, **given})
    try:
        result = run_batch(jobs_file, args, options)
    except BatchInterrupted as stop:
        result = stop.result
        done = sum(job.status == "done" for job in result.jobs)
        print(f"pixray: {'stopped (SIGTERM)' if stop.terminated else 'interrupted'}: {done} of {len(result.jobs)} "
              f"jobs finished in {result.outdir} (index.json lists them; run the same command to finish the rest)",
              file=sys.stderr)
        return 143 if stop.terminated else 130
    done = sum(job.status == "done" for job in result.jobs)
    earlier = f" ({result.skipped} from an earlier run)" if result.skipped else ""
    failed = f", {len(result.failed)} failed" if result.failed else ""
    made = ", ".join(path.name for key, path in result.files.items() if key != "palette")
    print(f"pixray: {done} of {len(result.jobs)} jobs done{earlier}{failed}; wrote {made} to {result.outdir}")
    return 1 if result.failed else 0


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


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"pixray: warning: {message}", file=sys.stderr)


_NUMBER = re.compile(r"-\d|-\.\d")


def _check_flags(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """Name an unknown flag and the closest real ones (argparse would call a flag's value an unknown
    COMMAND). Other spellings of a known setting ('-lr', '--Pixel-Size') become its flag."""
    known = parser._option_string_actions
    checked = []
    for token in argv:
        flag, eq, value = token.partition("=")
        if flag[:1] == "-" and flag[1:2] != "-" and flag[1:] in PIXRAY_SHORT_FLAGS:
            flag = f"--{PIXRAY_SHORT_FLAGS[flag[1:]]}"  # pixray's short flags: -i 50, -lr 0.1
            token = flag + eq + value
        if token.startswith("-") and not _NUMBER.match(token) and flag not in known:
            try:
                flag = f"--{canonical_name(flag)}"
            except SettingsError:
                names = [f.name for f in dataclasses.fields(Settings)] + ["config"]
                close = difflib.get_close_matches(flag.lstrip("-").replace("-", "_"), names, n=2, cutoff=0.7)
                hint = f" (did you mean {' or '.join('--' + c for c in close)}?)" if close else \
                    " (pixray --help lists them)"
                raise SettingsError(f"unknown setting {flag}{hint}") from None
            token = flag + eq + value
        checked.append(token)
    return checked


def _summary(metrics: dict) -> str:
    """The pixel-art numbers of a run in a few words (all of them are in metrics.json)."""
    return (f"{metrics['width']}x{metrics['height']} cells, {metrics['colors']} colours, "
            f"{metrics['orphan_ratio']:.0%} orphans, {metrics['partial_alpha']} half-transparent")


def _close(bar) -> None:
    """End the progress bar's line, so what follows starts on a line of its own."""
    if bar is not None:
        bar.close()


def main(argv: list[str] | None = None) -> int:
    warnings.showwarning = _print_warning
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    session = bar = None
    try:
        if argv and argv[0] == "batch":
            argv = argv[:1] + _check_flags(_subparser(parser, "batch"), argv[1:])
        elif not argv or argv[0] not in ("pixelate", "lint"):
            argv = _check_flags(parser, argv)
        args = vars(parser.parse_args(argv))
        command = args.pop("command", None)
        if command == "pixelate":
            return _pixelate(args)
        if command == "lint":
            return _lint(args)
        if command == "batch":
            return _batch(args)
        values = load_yaml(args.pop("config")) if "config" in args else {}
        values.update(normalise(args))
        settings = resolve(values)
        from .session import Session, pick_device  # heavy imports only once the settings are good

        device = pick_device(settings.device)
        print(f"pixray: loading {', '.join(settings.clip_models)} on {device} ...", file=sys.stderr)
        session = Session(settings)
        update, bar = _progress_bar(settings.iterations)
        result = session.run(callback=update, every=1)
    except PixrayError as err:
        _close(bar)
        saved = f"; saved the last good picture in {session.outdir}" if session and session.result else ""
        print(f"pixray: error: {err}{saved}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        _close(bar)
        where = f"; saved the current image and settings in {session.outdir}" if session and session.outdir else ""
        what = "stopped (SIGTERM)" if isinstance(stop, Terminated) else "interrupted"
        print(f"pixray: {what} at iteration {session.iteration if session else 0}{where}", file=sys.stderr)
        return 143 if isinstance(stop, Terminated) else 130
    _close(bar)
    names = ", ".join(p.name for p in result.files)
    extra = f" and {result.frames} frames in steps/" if result.frames else ""
    print(f"pixray: wrote {names}{extra} to {result.outdir} (seed {result.seed}; {_summary(result.metrics)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
