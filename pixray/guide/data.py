"""Emoji → (image, captions) pairs for training the guide and the judge.

Fetched from the npm registry at training time only (never at run time):
  emoji-datasource-google          Noto Color Emoji images (Apache-2.0), names and short names (MIT)
  @iconify-json/fluent-emoji-flat  Microsoft Fluent Emoji, flat (MIT), SVG
  @iconify-json/noto-v1            Noto Emoji, the first style (Apache-2.0), SVG }  tried as more drawings
  @iconify-json/streamline-emojis  Streamline emoji (CC-BY 4.0), SVG            }  for the guide (robust.py
                                                                                   --styles); not shipped
  emoji-datasource-twitter         Twemoji images (CC-BY 4.0)              }
  openmoji                         OpenMoji (CC BY-SA 4.0), SVG            } the judge's styles:
  @iconify-json/emojione           EmojiOne 2 (CC-BY 4.0), SVG             } other drawings
  @iconify-json/fxemoji            Firefox OS emoji (Apache-2.0), SVG      }
  @iconify-json/emojione-v1        EmojiOne 1 (CC BY-SA 4.0), SVG          } tried, with Streamline, as three
  @iconify-json/emojione-monotone  EmojiOne, black line art (CC-BY 4.0)    } more styles for the judge (train.py
                                                                             --judge --styles); not shipped
  emojibase-data                   English labels and tags (MIT)
SVGs are rendered with resvg (PyPI resvg-py), a training-time dependency only.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

PACKAGES = {"google": "emoji-datasource-google@16.0.0", "twitter": "emoji-datasource-twitter@16.0.0",
            "openmoji": "openmoji@17.0.0", "fluent": "@iconify-json/fluent-emoji-flat@1.2.6",
            "emojione": "@iconify-json/emojione@1.2.3", "fxemoji": "@iconify-json/fxemoji@1.2.2",
            "noto-v1": "@iconify-json/noto-v1@1.2.5", "streamline": "@iconify-json/streamline-emojis@1.2.4",
            "emojione-v1": "@iconify-json/emojione-v1@1.2.3", "emojione-monotone": "@iconify-json/emojione-monotone@1.2.1",
            "tags": "emojibase-data@17.0.0"}
SKIP_CATEGORIES = {"Flags", "Component"}  # ~270 near-identical flag rectangles, skin-tone swatches


@dataclass
class Item:
    code: str                # unified code point(s), e.g. 1F34E
    captions: list[str]      # first one is the main name
    image: np.ndarray        # (64,64,4) uint8 RGBA


def npm_tarball(spec: str, cache: Path) -> Path:
    """`npm pack` a package ("name@version") into the cache (once) and return the .tgz path.

    The file is found by its exact name and version: a glob on the name alone would let
    "@iconify-json/emojione" pick up emojione-v1's or emojione-monotone's tarball."""
    cache.mkdir(parents=True, exist_ok=True)
    name, version = spec.rsplit("@", 1)
    path = cache / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    if not path.exists():
        subprocess.run(["npm", "pack", spec, "--silent"], cwd=cache, check=True, capture_output=True)
    if not path.exists():
        raise SystemExit(f"npm pack {spec} did not write {path.name} into {cache}")
    return path


def _read_json(tgz: Path, member: str):
    with tarfile.open(tgz) as tar:
        return json.load(tar.extractfile(member))


def emoji_labels(cache: Path) -> dict[str, tuple[str, list[str]]]:
    """code → (English label, tags) of every emoji emojibase knows."""
    data = _read_json(npm_tarball(PACKAGES["tags"], cache), "package/en/data.json")
    return {_code(e["hexcode"]): (e.get("label", ""), e.get("tags", [])) for e in data}


def emoji_names(cache: Path) -> list[str]:
    """Every name any emoji goes by: emoji-datasource's names and short names, emojibase's labels, lower
    case."""
    found = [label for label, _ in emoji_labels(cache).values()]
    for entry in _read_json(npm_tarball(PACKAGES["google"], cache), "package/emoji.json"):
        found += [entry.get("name") or ""] + [s.replace("_", " ") for s in entry.get("short_names", [])]
    return [text.lower() for text in found if text]


def emoji_captions(cache: Path, labels: dict[str, tuple[str, list[str]]]) -> dict[str, list[str]]:
    """code → the captions the models learn for it (captions_for), for every emoji of the categories trained
    on; `labels`: emoji_labels(cache)."""
    return {_code(entry["unified"]): captions_for(entry, *labels.get(_code(entry["unified"]), ("", [])))
            for entry in _read_json(npm_tarball(PACKAGES["google"], cache), "package/emoji.json")
            if entry["category"] not in SKIP_CATEGORIES}


def captions_for(entry: dict, label: str, tags: list[str]) -> list[str]:
    """The main name first, then other names and name + tag variants (deduplicated)."""
    names = [label, entry.get("name") or ""] + [s.replace("_", " ").replace("-", " ")
                                                for s in entry.get("short_names", [])]
    names = [n.lower().strip() for n in names if n and n.strip()]
    captions = list(dict.fromkeys(names))
    captions += [f"{captions[0]} {tag}" for tag in tags[:4] if tag not in captions[0]]
    return captions


def _code(hexcode: str) -> str:
    """One spelling of an emoji's code points: upper case, no variation selector."""
    return hexcode.upper().replace("-FE0F", "")


def _render_svg(svg: str) -> Image.Image:
    try:
        import resvg_py
    except ImportError:
        raise SystemExit("rendering the SVG emoji sets needs resvg: pip install 'pixray[guide]'") from None

    return Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg, width=64, height=64))))


def _svg_sources(style: str, tar: tarfile.TarFile) -> dict[str, str]:
    """code (or "name:slug") → SVG text or the SVG's member name, for the SVG-only sets."""
    if style == "openmoji":
        entries = json.load(tar.extractfile("package/data/openmoji.json"))
        return {_code(e["hexcode"]): f"package/color/svg/{e['hexcode']}.svg" for e in entries}
    # an iconify set: bodies by icon name; some map code points to names (chars.json), others
    # are matched by the emoji's name ("red-apple", "redapple")
    icons = json.load(tar.extractfile("package/icons.json"))
    chars = json.load(tar.extractfile("package/chars.json"))
    width, height = icons.get("width", 16), icons.get("height", 16)
    svgs = {name: f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {icon.get("width", width)} '
                  f'{icon.get("height", height)}">{icon["body"]}</svg>' for name, icon in icons["icons"].items()}
    for alias, target in icons.get("aliases", {}).items():
        if target.get("parent") in svgs:
            svgs[alias] = svgs[target["parent"]]
    sources = {f"name:{name}": svg for name, svg in svgs.items()}
    sources.update({_code(code): svgs[name] for code, name in chars.items() if name in svgs})
    return sources


def _slugs(entry: dict) -> list[str]:
    names = [entry.get("name") or ""] + entry.get("short_names", [])
    slugs = [re.sub(r"[^a-z0-9]+", "-", n.lower()).strip("-") for n in names if n]
    return [f"name:{s}" for slug in slugs for s in (slug, slug.replace("-", ""))]


def _image(style: str, entry: dict, tar: tarfile.TarFile, svgs: dict[str, str]) -> Image.Image | None:
    if style in ("google", "twitter"):
        if not entry.get(f"has_img_{style}"):
            return None
        try:
            raw = tar.extractfile(f"package/img/{style}/64/{entry['image']}").read()
        except KeyError:
            return None
        return Image.open(io.BytesIO(raw))
    found = [svgs[key] for key in [_code(entry["unified"])] + _slugs(entry) if key in svgs]
    if not found:
        return None
    source = found[0]
    if not source.startswith("<svg"):
        source = tar.extractfile(source).read().decode()
    return _render_svg(source)


def load_items(style: str, cache: Path) -> list[Item]:
    """All usable emoji of one style with their captions, images at 64x64 RGBA.

    The list of emoji and their names come from emoji-datasource (the same for every style), so
    items of different styles share codes and captions."""
    names = _read_json(npm_tarball(PACKAGES["google"], cache), "package/emoji.json")
    tags = emoji_labels(cache)
    items = []
    with tarfile.open(npm_tarball(PACKAGES[style], cache)) as tar:
        svgs = {} if style in ("google", "twitter") else _svg_sources(style, tar)
        for entry in sorted(names, key=lambda e: e["sort_order"]):
            if entry["category"] in SKIP_CATEGORIES:
                continue
            image = _image(style, entry, tar, svgs)
            if image is None:
                continue
            image = image.convert("RGBA").resize((64, 64), Image.Resampling.LANCZOS)
            code = _code(entry["unified"])
            label, item_tags = tags.get(code, ("", []))
            items.append(Item(code, captions_for(entry, label, item_tags), np.asarray(image)))
    return items


def is_validation(code: str, fraction: float = 0.1) -> bool:
    """A stable split by code point: the same emoji are held out on every machine."""
    return zlib.crc32(code.encode()) % 1000 < fraction * 1000
