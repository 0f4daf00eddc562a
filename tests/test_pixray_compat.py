"""pixray 1.9 habits that run unchanged: output paths with a folder, its other spellings of our
settings, and every problem of a config reported at once."""

import pytest

import pixray
from pixray.errors import SettingsError
from pixray.settings import load_yaml, resolve

from .conftest import TINY


def test_pixrays_output_path_names_the_run_folder(quick, tmp_path, monkeypatch):
    settings = resolve({"prompts": "x", "clip_models": TINY, "output": "outputs/hello_pixray.png"})
    assert (settings.outdir, settings.output) == ("outputs", "hello_pixray.png")
    monkeypatch.chdir(tmp_path)
    values = {k: v for k, v in quick.items() if k != "outdir"}
    pixray.run(**values, output="renders/apple.png")
    assert (tmp_path / "renders" / "apple.png").is_file() and (tmp_path / "renders" / "settings.yaml").is_file()
    pixray.run(**values, output="renders/apple.png")       # the folder holds files: a new one, nothing replaced
    assert (tmp_path / "renders_2" / "apple.png").is_file()


@pytest.mark.parametrize("output", ["../x.png", "/tmp/x.png", "a/../x.png", "a//x.png", "a\\x.png", "./x.png"])
def test_output_paths_that_leave_the_folder_are_refused(output):
    with pytest.raises(SettingsError, match="setting 'output'"):
        resolve({"prompts": "x", "clip_models": TINY, "output": output})


def test_output_with_a_folder_and_outdir_together_is_refused():
    with pytest.raises(SettingsError, match="names a folder and so does outdir"):
        resolve({"prompts": "x", "clip_models": TINY, "output": "a/x.png", "outdir": "b"})


def test_pixrays_other_spellings(tmp_path):
    settings = resolve({"prompts": "x", "clip_models": TINY, "use_pixeldraw": True, "save_intermediates": False})
    assert settings.drawer == "pixel" and settings.save_every == 0
    assert resolve({"prompts": "x", "clip_models": TINY, "use_pixeldraw": True, "drawer": "clipdraw"}).drawer == \
        "clipdraw"
    kept = resolve({"prompts": "x", "clip_models": TINY, "save_intermediates": "false", "save_every": 5})
    assert kept.save_every == 5   # a setting given directly wins
    with pytest.raises(SettingsError, match="setting 'use_pixeldraw': cannot use 'maybe'"):
        resolve({"prompts": "x", "clip_models": TINY, "use_pixeldraw": "maybe"})


def test_every_problem_of_a_config_is_reported_at_once(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("prompts: a cat\nfilterz: wallpaper\niterations: many\npalete: pico8\n")
    with pytest.raises(SettingsError) as err:
        load_yaml(config)
    message = str(err.value)
    assert "\n" not in message
    assert "'filterz'" in message and "'iterations': cannot use 'many'" in message and "'palete'" in message


@pytest.mark.parametrize("text, expected", [("5 iterations", 5), ("5i", 5), ("7", 7), (3, 3), ("10%", 20),
                                            ("0%", 0), ("0.5%", 1)])
def test_pixrays_unit_strings_for_every(text, expected):
    settings = resolve({"prompts": "x", "clip_models": TINY, "iterations": 200, "save_every": text,
                        "display_every": text})
    assert settings.save_every == expected and settings.display_every == expected


def test_pixrays_iteration_drops_become_percents():
    settings = resolve({"prompts": "x", "clip_models": TINY, "iterations": 200,
                        "learning_rate_drops": ["100i", "75%", 90]})
    assert settings.learning_rate_drops == [50.0, 75.0, 90.0]


@pytest.mark.parametrize("key, value, message", [
    ("save_every", "five", "expected iterations"), ("save_every", "2.5 iterations", "whole number"),
    ("display_every", "150%", "out of range"), ("learning_rate_drops", ["300i"], "out of range"),
    ("save_every", "nan", "expected iterations")])
def test_bad_unit_strings_are_named(key, value, message):
    with pytest.raises(SettingsError, match=f"setting '{key}'.*{message}"):
        resolve({"prompts": "x", "clip_models": TINY, "iterations": 200, key: value})


def test_pixrays_facade_calls():
    pixray.reset_settings()
    pixray.add_settings(prompts="a cat", skip_args=True)   # pixray: "do not read sys.argv"
    pixray.add_settings(cutn=4)
    assert pixray.get_settings() == {"prompts": ["a cat"], "num_cuts": 4}
    pixray.get_settings()["num_cuts"] = 9                  # a copy: the collected settings stay
    assert pixray.get_settings()["num_cuts"] == 4


def test_a_setting_given_in_dash_case_still_wins_over_a_pixray_spelling():
    settings = resolve({"prompts": "x", "clip_models": TINY, "save_intermediates": False, "--save-every": 3})
    assert settings.save_every == 3
