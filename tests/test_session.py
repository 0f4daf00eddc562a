import json
import time

import pytest
import torch
import yaml
from PIL import Image

import pixray
import pixray.perceptors as perceptors
from pixray.session import Session, resolve_seed
from pixray.settings import resolve


def test_full_run_writes_every_file(quick, tmp_path):
    image = pixray.run(**quick)
    out = tmp_path / "run"
    assert image.size == (64, 48)
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == ["metrics.json", "output.png", "output_sprite.png", "palette.gpl", "palette.hex", "settings.yaml",
                     "steps/000002.png", "steps/000004.png"]
    with Image.open(out / "output.png") as png:
        assert png.size == (64, 48)
        recipe = json.loads(png.text["pixray:settings"])
        assert recipe["prompts"] == ["a red apple"] and recipe["seed"] == 7
        assert png.text["pixray:iteration"] == "4"
        assert "outdir" not in recipe
        assert png.tobytes() == image.tobytes()
    with Image.open(out / "output_sprite.png") as sprite:
        assert sprite.size == (16, 12)
    saved = yaml.safe_load((out / "settings.yaml").read_text())
    assert saved["seed"] == 7 and saved["pixel_size"] == [16, 12] and saved["iterations"] == 4


def test_settings_yaml_reproduces_the_run(quick, tmp_path):
    pixray.run(**quick)
    saved = yaml.safe_load((tmp_path / "run" / "settings.yaml").read_text())
    saved["outdir"] = str(tmp_path / "again")
    pixray.reset_settings()
    pixray.add_settings(**saved)
    settings = pixray.apply_settings()
    pixray.do_init(settings)
    pixray.do_run(settings)
    assert (tmp_path / "again" / "output.png").read_bytes() == (tmp_path / "run" / "output.png").read_bytes()


def test_same_seed_gives_byte_identical_pngs(quick, tmp_path):
    pixray.run(**quick)
    pixray.run(**quick)  # same outdir → goes to run_2, never overwrites
    first, second = tmp_path / "run", tmp_path / "run_2"
    for name in ("output.png", "output_sprite.png", "steps/000002.png"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    pixray.run(**{**quick, "seed": 8, "outdir": str(tmp_path / "other")})
    assert (tmp_path / "other" / "output.png").read_bytes() != (first / "output.png").read_bytes()


def test_string_seeds_are_stable_and_distinct():
    assert resolve_seed("moon") == resolve_seed("moon") != resolve_seed("sun")
    assert resolve_seed(5) == 5
    assert resolve_seed(-1) == 2**63 - 1
    fresh = {resolve_seed(None) for _ in range(5)}
    assert len(fresh) > 1 and all(isinstance(s, int) for s in fresh)


def test_outdir_templates_and_overwrite(quick, tmp_path):
    quick["outdir"] = str(tmp_path / "%DATE%-%SEQ%")
    quick["iterations"] = 0
    days = {time.strftime("%Y%m%d")}
    pixray.run(**quick)
    pixray.run(**quick)
    days.add(time.strftime("%Y%m%d"))  # a run may straddle midnight
    made = sorted(p.name for p in tmp_path.iterdir())
    assert len(made) == 2 and made[0].endswith("-001") and made[1].endswith("-002")
    assert made[0][:8] in days
    quick["outdir"] = str(tmp_path / "fixed")
    pixray.run(**quick)
    pixray.run(**quick, overwrite=True)
    assert not (tmp_path / "fixed_2").exists()


def test_progress_every_display_every_independent_of_saving(quick, tmp_path):
    seen = []
    pixray.run(**{**quick, "iterations": 5, "display_every": 2, "save_every": 3},
               callback=lambda p: seen.append((p.iteration, p.image.size, set(p.losses))))
    assert [s[0] for s in seen] == [2, 4, 5]
    assert all(size == (64, 48) for _, size, _ in seen)
    assert seen[0][2] == {"total", "pixray-tiny:random:a red apple"}
    assert sorted(p.name for p in (tmp_path / "run" / "steps").iterdir()) == ["000003.png"]


def test_iterate_yields_every_n(quick):
    session = Session(resolve({**quick, "iterations": 5}))
    assert [p.iteration for p in session.iterate(every=2)] == [2, 4, 5]
    assert list(session.iterate(every=2))[0].iteration == 5  # already finished: one final report


def test_optimisation_lowers_the_prompt_loss(quick):
    settings = resolve({**quick, "iterations": 25, "num_cuts": 4, "learning_rate": 0.05})
    session = Session(settings)

    def loss_on_fixed_cutouts():
        with torch.no_grad():
            cuts = session.cutouts(session.drawer.synth(), torch.Generator().manual_seed(0))
            return session.prompt_losses[0]["all"][0][1](session.perceptors[0].encode_image(cuts)).item()

    before = loss_on_fixed_cutouts()
    for _ in session.iterate():
        pass
    assert loss_on_fixed_cutouts() < before


def test_negative_prompt_weight_gives_negative_loss(quick):
    session = Session(resolve({**quick, "prompts": "an apple|a pear:-1"}))
    losses = session.step()
    assert losses["pixray-tiny:random:a pear"] < 0 < losses["pixray-tiny:random:an apple"]
    assert losses["total"] == pytest.approx(sum(v for k, v in losses.items() if k != "total"), abs=1e-5)


def test_learning_rate_drops_at_the_given_percent(quick):
    session = Session(resolve({**quick, "iterations": 4, "learning_rate": 0.2, "learning_rate_drops": [50]}))
    rates = []
    for _ in session.iterate(every=1):
        rates.append(session.optimizer.param_groups[0]["lr"])
    assert rates == pytest.approx([0.2, 0.02, 0.02, 0.02])


def test_clip_is_frozen_and_prompts_encoded_once(quick, monkeypatch):
    from pixray.perceptors import Perceptor

    calls = []
    encode = Perceptor.encode_text
    monkeypatch.setattr(Perceptor, "encode_text", lambda self, texts: calls.append(texts) or encode(self, texts))
    session = Session(resolve({**quick, "prompts": "a red apple|a pear:0.5"}))
    model = session.perceptors[0]
    assert not any(p.requires_grad for p in model.parameters())
    assert calls == [["a red apple", "a pear"]]  # one batch, at the start
    for _ in session.iterate():
        pass
    assert len(calls) == 1
    assert session.drawer.cells.grad is not None


def test_models_are_cached_across_runs_in_one_process(quick, tmp_path, monkeypatch):
    from pixray.facade import _state
    _state.models.clear()
    loads = []
    real = perceptors.load_perceptor
    monkeypatch.setattr(perceptors, "load_perceptor", lambda spec, device: loads.append(spec) or real(spec, device))
    pixray.run(**{**quick, "clip_models": "pixray-tiny:random", "iterations": 1})
    pixray.run(**{**quick, "iterations": 1, "outdir": str(tmp_path / "b")})
    assert len(loads) == 1


def test_ensemble_of_two_models(quick, tmp_path):
    import open_clip
    weights = tmp_path / "tiny.pt"
    torch.save(open_clip.create_model("pixray-tiny").state_dict(), weights)
    session = Session(resolve({**quick, "clip_models": f"pixray-tiny:random,pixray-tiny:{weights}"}))
    assert len(session.perceptors) == 2
    names = set(session.step())
    assert names == {"total", "pixray-tiny:random:a red apple", f"pixray-tiny:{weights}:a red apple"}


def test_local_weights_file_is_loaded(tmp_path):
    import open_clip
    model = open_clip.create_model("pixray-tiny")
    weights = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), weights)
    spec = perceptors.parse_model_name(f"pixray-tiny:{weights}")
    loaded = perceptors.load_perceptor(spec, torch.device("cpu"))
    for (name, a), b in zip(model.state_dict().items(), loaded.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_init_image_and_image_prompts(quick, tmp_path):
    picture = Image.new("RGB", (64, 48), (200, 30, 30))
    picture.paste((20, 20, 220), (32, 0, 64, 48))
    path = tmp_path / "init.png"
    picture.save(path)
    image = pixray.run(**{**quick, "init_image": str(path), "iterations": 0, "outdir": str(tmp_path / "a")})
    image = image.convert("RGB")
    assert image.getpixel((5, 5)) == (200, 30, 30) and image.getpixel((60, 40)) == (20, 20, 220)
    session = Session(resolve({**quick, "image_prompts": f"{path}:0.5"}))
    assert [name for name, _ in session.prompt_losses[0]["all"]] == ["pixray-tiny:random:a red apple",
                                                                     f"pixray-tiny:random:{path}"]
    assert session.prompt_losses[0]["all"][1][1].weight == 0.5
    session.step()


def test_ctrl_c_still_writes_the_image_and_settings(quick, tmp_path):
    def interrupt(progress):
        if progress.iteration == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pixray.run(**{**quick, "iterations": 10}, callback=interrupt)
    out = tmp_path / "run"
    assert (out / "output.png").is_file() and (out / "settings.yaml").is_file()
    with Image.open(out / "output.png") as png:
        assert png.text["pixray:iteration"] == "2"


def test_random_weights_do_not_depend_on_the_global_rng():
    spec = perceptors.parse_model_name("pixray-tiny:random")
    first = perceptors.load_perceptor(spec, torch.device("cpu"))
    torch.rand(1000)
    second = perceptors.load_perceptor(spec, torch.device("cpu"))
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(a, b)
