"""pixray 1.9's own settings files run unchanged (tiny random CLIP, 2 iterations, a tiny VQGAN where
they ask for VQGAN). They are test data outside the repository (../shared/pixray-configs, or the folder
in PIXRAY_CONFIGS); without them these tests are skipped."""

import os
import warnings
from pathlib import Path

import pytest
from PIL import Image

from pixray.errors import PixrayWarning, SettingsError
from pixray.session import Session
from pixray.settings import load_yaml, resolve

from .conftest import ROOT, TINY

CONFIGS = Path(os.environ.get("PIXRAY_CONFIGS", ROOT.parent / "shared" / "pixray-configs"))
FILES = sorted(CONFIGS.glob("*.yaml")) if CONFIGS.is_dir() else []
DATA = ROOT / "tests" / "data"
# What a config may warn about: the keys it uses that are accepted and ignored (pixray.compat).
EXPECTED_WARNINGS = {"vector_prompts"}


@pytest.mark.timeout(300)
@pytest.mark.skipif(not FILES, reason=f"pixray's configs are not in {CONFIGS}")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_pixrays_config_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = load_yaml(path)
    unexpected = [str(w.message) for w in caught if issubclass(w.category, PixrayWarning)
                  and not any(f"'{key}'" in str(w.message) for key in EXPECTED_WARNINGS)]
    assert not unexpected
    values.setdefault("prompts", "a red apple")  # pixray's cog configs take the prompt from the form
    values.update(clip_models=TINY, iterations=2, seed=3, device="cpu")
    if values.get("drawer") == "vqgan":
        values.update(vqgan_config=str(DATA / "taming_f16_tiny.yaml"), vqgan_checkpoint="random")
    if values.get("drawer") == "vdiff":
        with pytest.raises(SettingsError, match="vdiff drawer needs the v-diffusion-pytorch models"):
            resolve(values)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings = resolve(values)
        result = Session(settings).run()
    assert not [str(w.message) for w in caught if issubclass(w.category, PixrayWarning)]
    assert result.iterations == 2 and result.outdir.is_dir()
    picture = Image.open(result.outdir / settings.output)
    assert picture.size == tuple(settings.size)
    if "output" in values and "/" in str(values["output"]):  # pixray's output path names the run's folder
        assert result.outdir.resolve().parent == tmp_path.resolve()
