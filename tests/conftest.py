"""Shared fixtures. Tests use a tiny, randomly initialised open_clip model of the real CLIP
architecture (registered from tests/model_configs), so no weights are ever downloaded.

Nothing here may depend on the machine: every test runs in its own empty working folder, with the
model caches (huggingface, ~/.cache/clip, pixray's VQGAN folder) pointed at empty folders."""

import json
import os
from pathlib import Path

import numpy as np

import open_clip
import pytest
from hypothesis import settings as hypothesis_settings

import pixray

TINY = "pixray-tiny:random"
ROOT = Path(__file__).resolve().parents[1]
open_clip.add_model_config(ROOT / "tests" / "model_configs")
# hypothesis keeps no example database (it would write .hypothesis/ into the working tree)
hypothesis_settings.register_profile("pixray", database=None, deadline=None)
hypothesis_settings.load_profile("pixray")

# Cache locations the code (or huggingface_hub, open_clip) may read.
_CACHE_VARIABLES = ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", "PIXRAY_CACHE",
                    "TORCH_HOME")


def isolated_env(folder: Path, offline: bool = True) -> dict:
    """Environment for a child process that sees no cached weights (and no network if `offline`):
    HOME and every cache variable point into `folder`, so ~/.cache/clip is empty too."""
    env = {k: v for k, v in os.environ.items() if k not in _CACHE_VARIABLES}
    folder.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(folder), XDG_CACHE_HOME=str(folder / "cache"), HF_HOME=str(folder / "hf"),
               PIXRAY_CACHE=str(folder / "pixray"))
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return env


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path_factory):
    """A fresh facade, an empty working folder (./models or ./outputs of the checkout never leak in)
    and empty caches for every test."""
    work = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(work)
    monkeypatch.setenv("PIXRAY_CACHE", str(work / ".pixray-cache"))
    pixray.reset_settings()
    # Presets name ViT-B/32; whether its weights could load here must not depend on this machine's
    # cache or network. Tests of the fallback to the embedded guide set this themselves.
    monkeypatch.setattr("pixray.perceptors.weights_available", lambda spec: True)
    yield
    pixray.reset_settings()


@pytest.fixture
def quick(tmp_path):
    """Settings for a fast real run: tiny CLIP, small canvas, a few iterations, on the CPU (byte-identity
    holds there; PIXRAY_TEST_DEVICE=cuda runs the same tests on a GPU)."""
    return dict(prompts="a red apple", clip_models=TINY, iterations=4, num_cuts=2, size=(64, 48),
                pixel_size=(16, 12), seed=7, outdir=str(tmp_path / "run"), save_every=2, display_every=2,
                device=os.environ.get("PIXRAY_TEST_DEVICE", "cpu"))


@pytest.fixture
def tiny_cache(tmp_path):
    """Two 'styles' of four emoji, in the cache format prepare() reads."""
    gen = np.random.default_rng(0)
    captions = [["red apple", "apple"], ["green frog", "frog"], ["sun"], ["rocket", "space"]]
    codes = ["1F34E", "1F438", "2600", "1F680"]
    for style in ("a", "b"):
        images = gen.integers(0, 256, (4, 64, 64, 4), dtype=np.uint8)
        np.savez_compressed(tmp_path / f"{style}.npz", images=images)
        (tmp_path / f"{style}.json").write_text(json.dumps({"captions": captions, "codes": codes}))
    return tmp_path
