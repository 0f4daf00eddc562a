"""Shared fixtures. Tests use a tiny, randomly initialised open_clip model of the real CLIP
architecture (registered from tests/model_configs), so no weights are ever downloaded."""

from pathlib import Path

import open_clip
import pytest

import pixray

TINY = "pixray-tiny:random"
open_clip.add_model_config(Path(__file__).parent / "model_configs")


@pytest.fixture(autouse=True)
def _fresh_facade(monkeypatch):
    pixray.reset_settings()
    # Presets name ViT-B/32; whether its weights could load here must not depend on this machine's
    # cache or network. Tests of the fallback to the embedded guide set this themselves.
    monkeypatch.setattr("pixray.perceptors.weights_available", lambda spec: True)
    yield
    pixray.reset_settings()


@pytest.fixture
def quick(tmp_path):
    """Settings for a fast real run: tiny CLIP, small canvas, a few iterations."""
    return dict(prompts="a red apple", clip_models=TINY, iterations=4, num_cuts=2, size=(64, 48),
                pixel_size=(16, 12), seed=7, outdir=str(tmp_path / "run"), save_every=2, display_every=2)
