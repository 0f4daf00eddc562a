import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pixray import WeightsUnavailableError
from pixray.cli import build_parser, main
from pixray.perceptors import load_perceptor, parse_model_name

from .conftest import TINY, isolated_env


def test_cli_run_writes_files_and_a_summary(tmp_path, capsys):
    out = tmp_path / "apple"
    code = main(["--prompts", "a red apple", "--drawer", "pixel", "--iterations", "3", "--clip-models", TINY,
                 "--num_cuts", "2", "--size", "64", "48", "--pixel-size", "16x12", "--outdir", str(out),
                 "--seed", "3"])
    assert code == 0
    assert (out / "output.png").is_file() and (out / "output_sprite.png").is_file()
    printed = capsys.readouterr().out
    assert f"to {out}" in printed and "output.png" in printed and "(seed 3; 16x12 cells, " in printed and " colours, " in printed


def test_config_file_with_command_line_winning(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"prompts": "from yaml", "iterations": 2, "clip_models": TINY,
                                      "num_cuts": 1, "size": [32, 32], "pixel_size": 8, "seed": 1}))
    out = tmp_path / "o"
    assert main(["--config", str(config), "--iterations", "1", "--outdir", str(out)]) == 0
    saved = yaml.safe_load((out / "settings.yaml").read_text())
    assert saved["iterations"] == 1 and saved["prompts"] == ["from yaml"] and saved["num_cuts"] == 1


def test_bad_value_is_one_line_without_traceback(capsys):
    assert main(["--prompts", "x", "--init_image_alpha", "999"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "pixray: error: setting 'init_image_alpha': 999 is out of range; allowed: between 0 and 255"


def test_argparse_rejects_bad_choices_and_unknown_flags(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--prompts", "x", "--quality", "ultra"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'ultra'" in capsys.readouterr().err
    assert main(["--prompts", "x", "--iteratons", "3"]) == 2
    assert capsys.readouterr().err.strip() == ("pixray: error: unknown setting --iteratons "
                                               "(did you mean --iterations?)")


def test_help_groups_settings_by_area():
    text = build_parser().format_help()
    for title in ("prompts:", "drawer and canvas:", "perception (CLIP):", "optimisation:", "output:"):
        assert title in text
    assert "--pixel-size" in text and "--pixel_size" in text


def test_missing_weights_offline_give_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("pixray.perceptors._cached_weights", lambda arch, tag: None)
    with pytest.raises(WeightsUnavailableError) as err:
        load_perceptor(parse_model_name("ViT-B/32"), "cpu")
    message = str(err.value)
    assert "\n" not in message
    assert "ViT-B/32" in message and "clip_models='ViT-B-32:/path/to/weights.pt'" in message


def _run_cli(args, env, timeout=300):
    """The console command in a child process, in the test's own working folder."""
    return subprocess.run([sys.executable, "-m", "pixray.cli", *args], capture_output=True, text=True,
                          env=env, cwd=os.getcwd(), timeout=timeout)


def test_console_run_offline_without_weights_has_no_traceback(tmp_path):
    result = _run_cli(["--prompts", "a red apple", "--clip_models", "ViT-B/32", "--outdir", str(tmp_path / "o"),
                       "--iterations", "1"], isolated_env(tmp_path / "home"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("pixray: error:")]
    assert len(errors) == 1 and "ViT-B/32" in errors[0] and "clip_models=" in errors[0]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_console_run_with_the_real_vit_b_32_architecture(tmp_path):
    out = tmp_path / "o"
    result = _run_cli(["--prompts", "a red apple", "--clip_models", "ViT-B-32:random", "--iterations", "2",
                       "--num_cuts", "2", "--aspect", "square", "--scale", "0.5", "--outdir", str(out)],
                      isolated_env(tmp_path / "home"))
    assert result.returncode == 0, result.stderr
    assert (out / "output.png").is_file() and "wrote output.png" in result.stdout


def test_ci_runs_the_readme_test_command():
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```bash\n")[1:]]
    test_command = next(b for b in blocks if "pytest" in b)
    assert test_command in (root / ".ci" / "run").read_text()


def test_readme_documents_every_setting():
    import dataclasses

    from pixray.settings import Settings
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [f.name for f in dataclasses.fields(Settings) if f"| `{f.name}` |" not in readme]
    assert missing == []


def test_setup_lists_every_package_and_ships_the_data():
    import re
    root = Path(__file__).resolve().parents[1]
    setup = (root / "setup.py").read_text()
    listed = set(re.findall(r'"(pixray(?:\.\w+)?)"', setup.split("packages=[", 1)[1].split("]", 1)[0]))
    on_disk = {"pixray", "pixray.drawers", "pixray.filters"} | {f"pixray.{p.parent.name}" for p in (root / "pixray").glob("*/__init__.py")}
    assert listed == on_disk
    assert '"data/*.json", "data/*.pt"' in setup
