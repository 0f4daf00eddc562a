import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import pixray

from .conftest import isolated_env

ROOT = Path(__file__).resolve().parents[1]


def test_video_and_gif_are_playable_and_crisp(quick, tmp_path):
    # with a palette the final frame (quantised) differs from the last progress frame
    pixray.run(**{**quick, "iterations": 6, "save_every": 2}, palette="pico8", video=True, gif=True, video_fps=5)
    out = tmp_path / "run"
    import imageio.v2 as imageio
    reader = imageio.get_reader(out / "output.mp4")
    frames = [frame for frame in reader]
    assert len(frames) == 4  # iterations 2, 4, 6 and the final image
    assert reader.get_meta_data()["fps"] == 5
    height, width = frames[0].shape[:2]
    assert width % 2 == 0 and height % 2 == 0 and max(width, height) >= 512
    # nearest-neighbour upscale: inside a cell the colour is flat (up to codec noise)
    cell = frames[-1][: height // 12, : width // 16].astype(float)
    assert cell.std(axis=(0, 1)).max() < 6
    with Image.open(out / "output.gif") as gif:
        assert gif.n_frames == 4 and gif.info["loop"] == 0


def test_notebook_display_updates_one_image_in_place(quick, monkeypatch):
    pytest.importorskip("IPython")
    shown = []

    class Handle:
        def update(self, image):
            shown.append(("update", image.size))

    def fake_display(image, display_id=False):
        shown.append(("display", image.size))
        return Handle()

    monkeypatch.setattr("pixray.facade.in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", fake_display)
    pixray.reset_settings()
    pixray.add_settings(**{**quick, "iterations": 6, "display_every": 2})
    settings = pixray.apply_settings()
    pixray.do_run(settings)
    assert shown == [("display", (64, 48)), ("update", (64, 48)), ("update", (64, 48))]


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_quickstart_notebook_executes_offline_with_images(tmp_path, monkeypatch):
    """As shipped (no CLIP weights named), on a machine with no cached weights and no network: the
    embedded guide draws, with no traceback and no widget warning."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    for name, value in isolated_env(tmp_path / "home").items():
        monkeypatch.setenv(name, value)  # the kernel inherits this environment
    notebook = nbformat.read(ROOT / "examples" / "quickstart.ipynb", as_version=4)
    params = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    assert 'CLIP_MODELS = ""' in params.source
    params.source = params.source.replace("ITERATIONS = 100", "ITERATIONS = 4").replace("DISPLAY_EVERY = 10",
                                                                                          "DISPLAY_EVERY = 2")
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "IProgress" not in streams and "Traceback" not in streams
    assert "using the embedded guide" in streams
    run_cell = next(c for c in notebook.cells if c.cell_type == "code" and "do_run" in c.source)
    images = [o for o in run_cell.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1  # one live image, updated in place
    last = notebook.cells[-1].outputs
    assert any("image/png" in o.get("data", {}) for o in last)
    assert (tmp_path / "outputs" / "notebook" / "output.png").is_file()


# Requests to the local server never go through a proxy the machine may have configured.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 2) -> dict:
    return json.loads(_LOCAL.open(url, timeout=timeout).read())


def _predict(base: str, request: dict) -> dict:
    """One prediction. cog runs one at a time and answers 409 while the previous one is still being
    wrapped up after its response went out: wait and ask again."""
    deadline = time.time() + 60
    while True:
        try:
            return json.loads(_LOCAL.open(urllib.request.Request(
                f"{base}/predictions", data=json.dumps(request).encode(),
                headers={"Content-Type": "application/json"}), timeout=500).read())
        except urllib.error.HTTPError as err:
            if err.code != 409 or time.time() > deadline:
                raise
            time.sleep(0.5)


def _start_cog_server(log_path: Path, attempts: int = 3):
    """cog's HTTP server on a free port, its output going to a file (a pipe nobody reads can fill and
    block it). Another process may take the port between choosing and binding: then try another."""
    env = {**os.environ, "COG_PREDICT_TYPE_STUB": "predict.py:Predictor", "NO_PROXY": "127.0.0.1,localhost",
           "no_proxy": "127.0.0.1,localhost",
           # cog's server starts its worker with the `python` on PATH: make it this environment's
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    for _ in range(attempts):
        port = _free_port()
        with open(log_path, "w") as log:
            server = subprocess.Popen([sys.executable, "-m", "cog.server.http", "--host", "127.0.0.1"], cwd=ROOT,
                                      env={**env, "PORT": str(port)}, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 240
        while time.time() < deadline and server.poll() is None:
            try:
                if _get(f"{base}/health-check")["status"] == "READY":
                    return server, base
            except OSError:
                pass
            time.sleep(0.5)
        _stop(server)
        if "address already in use" not in log_path.read_text().lower():
            break
    pytest.fail(f"cog server did not start:\n{log_path.read_text()[-3000:]}")


def _stop(server) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_cog_predictor_served_over_loopback_streams_progress_images(tmp_path):
    pytest.importorskip("cog")
    import base64
    import io

    server, base = _start_cog_server(tmp_path / "cog.log")
    try:
        request = {"input": {"prompts": "a red apple", "clip_models": "ViT-B-32:random", "iterations": 6,
                             "display_every": 2, "pixel_width": 16, "pixel_height": 0, "seed": 3,
                             "palette": "pico8"}}  # height 0: follows the aspect (16x9 cells on 400x225)
        answer = _predict(base, request)
        # pixray's free-form settings YAML: it wins over the fields, its output path is the prediction's own
        sprite = _predict(base, {"input": {"prompts": "a red apple", "drawer": "sprite", "clip_models": "embedded",
                                           "iterations": 2, "display_every": 2,
                                           "settings": "colors: 4\nfilters: tiler\noutput: outputs/x.png"}})
    finally:
        _stop(server)
    assert sprite["status"] == "succeeded", sprite.get("error")  # every drawer is a choice
    sprite_final = Image.open(io.BytesIO(base64.b64decode(sprite["output"][-1].split(",", 1)[1])))
    assert len(sprite_final.convert("RGB").getcolors()) <= 4
    assert answer["status"] == "succeeded", answer.get("error")
    images = [Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) for url in answer["output"]]
    assert len(images) == 3  # progress at iterations 2 and 4, then the final picture
    assert len({image.tobytes() for image in images}) == 3
    final = images[-1]
    assert final.size == (400, 225) and final.mode == "P"
    cells = Image.open(io.BytesIO(base64.b64decode(answer["output"][-1].split(",", 1)[1]))).resize((16, 9),
                                                                                                Image.NEAREST)
    assert cells.resize((400, 225), Image.NEAREST).tobytes() == final.tobytes()  # 25x25-pixel cells
    pico8 = {tuple(c) for c in pixray.load_palette("pico8").colors}
    assert {c for _, c in final.convert("RGB").getcolors()} <= pico8


@pytest.mark.parametrize("script, extra", [
    ("text_to_pixel.py", []),
    ("init_image_to_pixel.py", ["PHOTO"]),
    ("palette_dither.py", []),
    ("sprite_transparency.py", []),
])
def test_examples_run(script, extra, tmp_path, monkeypatch, capsys):
    import runpy

    photo = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).random((90, 160, 3)) * 255).astype(np.uint8)).save(photo)
    args = [str(photo) if a == "PHOTO" else a for a in extra]
    out = tmp_path / "out"
    out.mkdir()
    (out / "output.png").write_bytes(b"the user's own file")  # an outdir that is taken
    monkeypatch.setattr(sys, "argv", [script, *args, "--clip_models", "pixray-tiny:random", "--iterations", "2",
                                      "--outdir", str(out)])
    runpy.run_path(str(ROOT / "examples" / script), run_name="__main__")
    assert (out / "output.png").read_bytes() == b"the user's own file"
    assert [p for p in tmp_path.rglob("output.png") if p.parent != out]
    printed = [line.split(": ", 1)[1] for line in capsys.readouterr().out.splitlines() if ": " in line]
    assert all(Path(path).is_file() for path in printed if path.endswith(".png"))
