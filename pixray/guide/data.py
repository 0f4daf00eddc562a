"""Emoji → (image, captions) pairs for training the guide and the judge.

Fetched from the npm registry at training time only (never at run time):
  emoji-datasource-google   Noto Color Emoji images (Apache-2.0), names and short names (MIT)
  emoji-datasource-twitter  Twemoji images (CC-BY 4.0), used for the judge: another drawing style
  emojibase-data            English labels and tags (MIT)
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

PACKAGES = {"google": "emoji-datasource-google@16.0.0", "twitter": "emoji-datasource-twitter@16.0.0",
            "tags": "emojibase-data@17.0.0"}
SKIP_CATEGORIES = {"Flags", "Component"}  # ~270 near-identical flag rectangles, skin-tone swatches


@dataclass
class Item:
    code: str                # unified code point(s), e.g. 1F34E
    captions: list[str]      # first one is the main name
    image: np.ndarray        # (64,64,4) uint8 RGBA


def npm_tarball(spec: str, cache: Path) -> Path:
    """`npm pack` a package into the cache (once) and return the .tgz path."""
    cache.mkdir(parents=True, exist_ok=True)
    name = spec.split("@")[-2].replace("/", "-").lstrip("@") if spec.count("@") > 1 else spec.split("@")[0]
    found = sorted(cache.glob(f"{name}-*.tgz"))
    if not found:
        subprocess.run(["npm", "pack", spec, "--silent"], cwd=cache, check=True, capture_output=True)
        found = sorted(cache.glob(f"{name}-*.tgz"))
    return found[-1]


def _read_json(tgz: Path, member: str):
    with tarfile.open(tgz) as tar:
        return json.load(tar.extractfile(member))


def _tags_by_code(cache: Path) -> dict[str, tuple[str, list[str]]]:
    data = _read_json(npm_tarball(PACKAGES["tags"], cache), "package/en/data.json")
    return {e["hexcode"].replace("-FE0F", ""): (e.get("label", ""), e.get("tags", [])) for e in data}


def captions_for(entry: dict, label: str, tags: list[str]) -> list[str]:
    """The main name first, then other names and name + tag variants (deduplicated)."""
    names = [label, entry.get("name") or ""] + [s.replace("_", " ").replace("-", " ")
                                                for s in entry.get("short_names", [])]
    names = [n.lower().strip() for n in names if n and n.strip()]
    captions = list(dict.fromkeys(names))
    captions += [f"{captions[0]} {tag}" for tag in tags[:4] if tag not in captions[0]]
    return captions


def load_items(style: str, cache: Path) -> list[Item]:
    """All usable emoji of one style with their captions, images at 64x64 RGBA."""
    tgz = npm_tarball(PACKAGES[style], cache)
    tags = _tags_by_code(cache)
    entries = _read_json(tgz, "package/emoji.json")
    items = []
    with tarfile.open(tgz) as tar:
        for entry in sorted(entries, key=lambda e: e["sort_order"]):
            if entry["category"] in SKIP_CATEGORIES or not entry.get(f"has_img_{style}"):
                continue
            member = f"package/img/{style}/64/{entry['image']}"
            try:
                raw = tar.extractfile(member).read()
            except KeyError:
                continue
            image = Image.open(io.BytesIO(raw)).convert("RGBA").resize((64, 64), Image.Resampling.LANCZOS)
            code = entry["unified"].replace("-FE0F", "")
            label, item_tags = tags.get(code, ("", []))
            items.append(Item(code, captions_for(entry, label, item_tags), np.asarray(image)))
    return items


def is_validation(code: str, fraction: float = 0.1) -> bool:
    """A stable split by code point: the same emoji are held out on every machine."""
    return zlib.crc32(code.encode()) % 1000 < fraction * 1000
