"""pixray 1.9's features beyond the basics: filters, the fft drawer, optimisers, auto_stop, batches,
cut_power, spot/label/noise prompts, init anchoring in parameter space, transparency weight, overlays,
edge/smoothness options, pixray's scale, short flags and keys accepted with a warning."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from pixray.cli import main
from pixray.cutouts import Cutouts
from pixray.drawers.fft import inverse_dwt2, wavelet_filters
from pixray.drawers.pixel import cell_index_map
from pixray.errors import SettingsError
from pixray.filters.lookup import LookupFilter
from pixray.filters.wallpaper import WallpaperFilter, seam_loss
from pixray.optimisers import build_optimiser
from pixray.session import Session
from pixray.settings import OPTIMISERS, resolve
from pixray.spot import spot_mask

from .conftest import TINY


def settings_for(**values):
    return resolve({"prompts": "x", "clip_models": TINY, "size": (32, 24), "pixel_size": (8, 6), **values})


# --- filters ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, factor", [("tile", (1, 1)), ("horizontal", (1, 1)), ("shift", (2, 1)),
                                          ("mirror", (2, 2))])
def test_wallpaper_types_show_the_cutouts_their_repeat(kind, factor):
    settings = settings_for(filters="wallpaper", wallpaper_type=kind)
    image = torch.rand(1, 3, 24, 32, requires_grad=True)
    view, loss = WallpaperFilter(settings, torch.Generator().manual_seed(0))(image)
    assert view.shape[-2:] == (24 * factor[0], 32 * factor[1])
    assert torch.equal(view.detach().unique(), image.detach().unique())  # copies of the same pixels
    assert (loss is None) == (kind == "mirror")
    view.sum().backward()
    assert image.grad.abs().sum() > 0


def test_seam_loss_is_zero_for_a_picture_that_repeats_and_not_for_one_that_does_not():
    smooth = torch.linspace(0, 1, 16).repeat(1, 3, 16, 1)
    periodic = torch.tensor([0, 0.25, 0.5, 0.75, 1, 0.75, 0.5, 0.25]).repeat(1, 3, 16, 2)  # even steps, seam too
    assert seam_loss(periodic, None) == 0
    assert seam_loss(smooth, None) > 0.5  # the ramp jumps from 1 back to 0 at the seam
    shifted = torch.zeros(1, 3, 8, 8)
    shifted[..., :4] = 1  # left half white: repeats with bricks offset by half only if rows match shifted
    assert seam_loss(shifted, None, shift=4) > seam_loss(shifted, None, shift=0) - 1e-6


def test_wallpaper_spellings_and_tile_use_the_filter():
    assert settings_for(filters="wallpaper", wallpaper_shift=True).wallpaper_type == "shift"
    assert settings_for(tile=True).filters == ["wallpaper"]
    assert settings_for(filters="tiler").tile  # smoothness wraps around too
    with pytest.raises(SettingsError, match="'filters': 'blur' is not one of wallpaper, tiler, lookup"):
        settings_for(filters="blur")


def test_lookup_shows_palette_colours_and_passes_gradients_straight_through():
    settings = settings_for(filters="lookup", palette="gameboy")
    palette = {tuple(round(c * 255) for c in row) for row in LookupFilter(settings, None).palette.tolist()}
    image = torch.rand(1, 3, 6, 8, requires_grad=True)
    view, loss = LookupFilter(settings, None)(image)
    colours = {tuple(round(c * 255) for c in px) for px in view[0].permute(1, 2, 0).reshape(-1, 3).tolist()}
    assert colours <= palette and loss > 0
    (view.sum() + loss).backward()
    assert image.grad.abs().min() > 0
    assert settings_for(filters="lookup").palette == "pico8"  # pixray's lookup had a table of its own


def test_a_wallpaper_run_is_deterministic(quick):
    values = {**quick, "filters": "wallpaper", "wallpaper_type": "shift", "wallpaper_edge_match": 2}
    first = Session(resolve(values)).step()
    assert "wallpaper filter" in first and math.isfinite(first["total"])
    assert Session(resolve(values)).step() == first


# --- the fft drawer ---------------------------------------------------------------------------------

@pytest.mark.parametrize("wave", ["haar", "db2", "coif2"])
def test_inverse_wavelet_transform_matches_pywt(wave):
    pywt = pytest.importorskip("pywt")
    image = np.random.default_rng(0).random((1, 3, 64, 96))
    coeffs = pywt.wavedec2(image, wave, mode="periodization", level=2, axes=(-2, -1))
    lo, hi = (f.double() for f in wavelet_filters(wave))
    ours = inverse_dwt2(torch.from_numpy(coeffs[0]), [tuple(map(torch.from_numpy, level)) for level in coeffs[1:]],
                        lo, hi)
    assert np.abs(ours.numpy() - pywt.waverec2(coeffs, wave, mode="periodization", axes=(-2, -1))).max() < 1e-5


@pytest.mark.parametrize("use", ["fft", "dwt", "pixel"])
def test_fft_drawer_starts_from_the_init_image_and_learns(quick, tmp_path, use):
    path = tmp_path / "init.png"
    picture = Image.new("RGB", (64, 48), (200, 60, 40))
    picture.paste((30, 90, 200), (0, 0, 32, 48))
    picture.save(path)
    settings = resolve({**quick, "drawer": "fft", "fft_use": use, "pixel_size": None, "init_image": str(path),
                        "init_image_alpha": 255})
    session = Session(settings)
    start = session.drawer.synth().detach()
    assert start.shape == (1, 3, 48, 64)
    assert (start - session.init_image).abs().mean() < 0.03
    session.step()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in session.drawer.params)
    assert settings.learning_rate == 0.3  # pixray's fft_lrate


@pytest.mark.parametrize("use", ["fft", "dwt", "pixel"])
def test_fft_drawer_on_paper_starts_white_and_colours_at_once(quick, use):
    """init_noise=paper (the default with the embedded guide): a white page whose colours answer a gradient
    at once (through a sigmoid, flat at white, they barely moved), clamped to [0, 1] with the gradient
    passed straight through."""
    base = {**quick, "drawer": "fft", "fft_use": use, "pixel_size": None}
    grey = Session(resolve({**base, "init_noise": "pixels"})).drawer
    assert (grey.synth() - 0.5).abs().max() < 0.05  # pixray's own start is unchanged
    paper = Session(resolve({**base, "init_noise": "paper"})).drawer
    page = paper.synth()
    assert page.mean() > 0.99 and page.min() > 0.9 and page.max() <= 1  # white, a little noise

    def push(drawer):  # the gradient of darkening every pixel
        drawer.synth().sum().backward()
        return sum(p.grad.norm() for p in drawer.params)

    assert push(paper) > 3 * push(grey)  # the linear slope is 1, the sigmoid's at most 1/4
    with torch.no_grad():  # pushed far past white: still white, and a darkening gradient still gets through
        paper._from_decorrelated(paper._from_rgb(torch.full((1, 3, 48, 64), 1.5)))
    assert torch.equal(paper.synth(), torch.ones(1, 3, 48, 64))
    assert push(paper) > 0


def test_fft_settings_are_checked_before_anything_loads():
    with pytest.raises(SettingsError, match="'fft_wave': 'wobbly' is not a wavelet"):
        settings_for(drawer="fft", fft_use="dwt", fft_wave="wobbly", pixel_size=None)
    assert settings_for(drawer="fft", fft_lrate=0.05, pixel_size=None).learning_rate == 0.05


# --- optimisation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", OPTIMISERS)
def test_every_pixray_optimiser_steps(name):
    weight = torch.nn.Parameter(torch.ones(4))
    optimiser = build_optimiser(name, [{"params": [weight]}], lr=0.1)
    weight.square().sum().backward()
    optimiser.step()
    assert (weight < 1).all()


def test_optimiser_names_are_pixrays_in_any_case():
    assert settings_for(optimiser="diffgrad").optimiser == "DiffGrad"
    with pytest.raises(SettingsError, match="'optimiser': 'SGDX' is not one of Adam, AdamW"):
        settings_for(optimiser="SGDX")


def test_auto_stop_ends_a_run_whose_loss_stops_improving(quick):
    session = Session(resolve({**quick, "prompts": "x:0", "iterations": 100, "learning_rate_drops": [50],
                               "auto_stop": True, "save_every": 0}))
    result = session.run()
    # flat loss: the best is at iteration 1, a drop at 13 (its best at 14), the second plateau ends it at 26
    assert session.stopped_early and result.iterations == 26
    assert session.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * session.settings.learning_rate)


def test_batches_add_up_more_cutouts(quick):
    session = Session(resolve({**quick, "batches": 3}))
    calls = []
    original = session.cutouts.forward
    session.cutouts.forward = lambda *args: calls.append(1) or original(*args)
    parts = session.step()
    assert len(calls) == 3 and math.isfinite(parts["total"])


@pytest.mark.parametrize("power", [0.5, 3.0])
def test_cut_power_crops_are_reproducible(power):
    cutouts = Cutouts(16, 6, 0.2, cut_power=power)
    image = torch.rand(1, 3, 40, 50)
    first = cutouts(image, torch.Generator().manual_seed(1))
    assert first.shape == (6, 3, 16, 16)
    assert torch.equal(first, cutouts(image, torch.Generator().manual_seed(1)))


# --- prompts ----------------------------------------------------------------------------------------

def test_image_prompt_weight_fills_the_weights_not_given(quick, tmp_path):
    path = tmp_path / "p.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path)
    session = Session(resolve({**quick, "image_prompts": [str(path), f"{path}:0.25"], "image_prompt_weight": 3}))
    weights = [float(loss.weight) for name, loss in session.prompt_losses[0]["all"] if str(path) in name]
    assert weights == [3.0, 0.25]


def test_spot_labels_and_noise_prompts_each_add_losses(quick):
    session = Session(resolve({**quick, "spot": "a sun", "spot_off": "sky", "labels": "apple",
                               "noise_prompt_seeds": [5], "noise_prompt_weights": [0.5]}))
    parts = session.step()
    names = set(parts)
    assert {f"{TINY}:spot a sun", f"{TINY}:spot_off sky", f"{TINY}:apple", f"{TINY}:noise 5"} <= names
    with pytest.raises(SettingsError, match="one weight per seed"):
        resolve({**quick, "noise_prompt_seeds": [1, 2], "noise_prompt_weights": [1]})


def test_spot_mask_is_a_centred_ellipse_or_the_light_part_of_a_file(tmp_path):
    mask = spot_mask(40, 60)
    assert mask[0, 0, 20, 30] == 1 and mask[0, 0, 0, 0] == 0 and mask[0, 0, 20, 5] == 0
    path = tmp_path / "spot.png"
    custom = Image.new("L", (10, 10), 0)
    custom.paste(255, (0, 0, 5, 10))
    custom.save(path)
    mask = spot_mask(20, 20, str(path))
    assert mask[0, 0, :, :9].min() == 1 and mask[0, 0, :, 11:].max() == 0


# --- anchoring, transparency, overlay ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["init_weight", "init_weight_dist", "init_weight_cos"])
def test_parameter_anchoring_pulls_back_towards_the_start(quick, tmp_path, name):
    path = tmp_path / "init.png"
    Image.new("RGB", (64, 48), (250, 10, 10)).save(path)
    session = Session(resolve({**quick, "prompts": "a red apple", "init_image": str(path), name: 5.0,
                               "learning_rate": 0.3}))
    first = session.step()
    assert all(math.isfinite(v) for v in first.values())
    moved = session.step()
    key = next(k for k in moved if k.startswith("init_image anchor"))
    assert moved[key] > 0 and session.drawer.cells.grad.abs().sum() > 0


def test_transparent_weight_pushes_towards_transparency(quick):
    session = Session(resolve({**quick, "transparent": True, "prompts": "x:0", "transparent_weight": 1.0,
                               "learning_rate": 0.2}))
    before = session.drawer.alpha.mean().item()
    for _ in range(5):
        session.step()
    assert session.drawer.alpha.mean().item() < before
    with pytest.raises(SettingsError, match="'transparent_weight': it weighs the alpha channel"):
        resolve({**quick, "transparent_weight": 1.0})


def test_overlay_image_is_pasted_into_the_drawing(quick, tmp_path):
    path = tmp_path / "overlay.png"
    Image.new("RGBA", (64, 48), (0, 255, 0, 255)).save(path)
    session = Session(resolve({**quick, "prompts": "x:0", "overlay_image": str(path), "overlay_every": 3,
                               "overlay_offset": 0, "learning_rate": 0}))
    session.step()
    assert torch.allclose(session.drawer.synth()[0, :, 0, 0], torch.tensor([0.0, 1.0, 0.0]))
    with pytest.raises(SettingsError, match="'overlay_image': drawer 'clipdraw' cannot redraw itself"):
        resolve({**quick, "drawer": "clipdraw", "overlay_image": str(path)})


# --- losses, shapes, sizes --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["default", "clipped", "log"])
def test_smoothness_types_order_a_hard_edge(kind):
    from pixray.losses import LossContext
    from pixray.losses.smoothness import SmoothnessLoss

    edge = torch.zeros(1, 3, 8, 8)
    edge[..., 4:] = 1
    loss = SmoothnessLoss(settings_for(smoothness_type=kind)).compute(LossContext(edge, 0, 1, None))
    expected = {"default": 1 / 7, "clipped": 0.5 / 7, "log": math.log(2) / 7}[kind]
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_edge_margins_choose_the_band():
    from pixray.losses import LossContext
    from pixray.losses.edge import EdgeLoss

    image = torch.zeros(1, 3, 10, 10)  # black; the edge colour is white
    image[..., :, :3] = 1              # a white left band of 3 pixels
    settings = settings_for(custom_loss="edge", edge_margins=[3, 0, 0, 0])
    assert EdgeLoss(settings).compute(LossContext(image, 0, 1, None)).item() == 0
    settings = settings_for(custom_loss="edge", edge_thickness=2, global_color_weight=1.0)
    assert EdgeLoss(settings).compute(LossContext(image, 0, 1, None)).item() > 0.5


def test_knit_cells_cover_every_pixel_once():
    index, (rows, cols) = cell_index_map("knit", (8, 6), (64, 48))
    assert index.min() == 0 and index.max() < rows * cols
    assert len(index.unique()) >= 8 * 6


def test_pixray_presets_and_noises():
    assert settings_for(quality="supreme").num_cuts == 32
    assert settings_for(init_noise="snow").init_noise == "snow"


# --- command line -----------------------------------------------------------------------------------

@pytest.mark.filterwarnings("default::pixray.errors.PixrayWarning")  # the CLI prints it
def test_pixrays_short_flags_and_ignored_keys_on_the_command_line(tmp_path, capsys):
    code = main(["-p", "x", "--clip_models", TINY, "-i", "1", "-lr", "0.1", "-s", "16", "12", "-cuts", "2",
                 "--vector_prompts", "textoff", "--outdir", str(tmp_path / "run"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0
    assert "setting 'vector_prompts' (pixray's) is ignored:" in err and err.count("vector_prompts") == 1
    assert Image.open(tmp_path / "run" / "output.png").size == (16, 12)


def test_vdiff_names_what_is_missing():
    with pytest.raises(SettingsError, match="vdiff drawer needs the v-diffusion-pytorch models"):
        settings_for(drawer="vdiff")


# --- Python API ---------------------------------------------------------------------------------------

class PixrayStyleLoss:
    """A loss as pixray 1.9 users wrote them (LossInterface)."""

    def __init__(self, device=None):
        self.calls = 0

    def get_loss(self, cur_cutouts, out, args, globals=None, lossGlobals=None):
        self.calls += 1
        assert args.prompts == ["a red apple"] and globals["cur_iteration"] >= 0
        return [out.mean(), 0.5 * next(iter(cur_cutouts.values())).mean()]


def test_add_custom_loss_takes_pixray_loss_classes_and_ours(quick, monkeypatch):
    import pixray
    from pixray import facade
    from pixray.losses import Loss

    class Darkness(Loss):
        def compute(self, ctx):
            return ctx.image.mean()

    monkeypatch.setattr(facade._state, "losses", dict(facade._state.losses))
    pixray.add_custom_loss("brightness", PixrayStyleLoss)
    pixray.add_custom_loss("Darkness", Darkness)
    pixray.add_settings(**quick, custom_loss="brightness:2,darkness")
    session = pixray.do_init(pixray.apply_settings())
    parts = session.step()
    assert parts["brightness"] > 0 and parts["darkness"] > 0
    assert session.custom_losses[0].inner.calls == 1
    with pytest.raises(SettingsError, match="add_custom_loss: .* is neither"):
        pixray.add_custom_loss("bad", object)
    with pytest.raises(SettingsError, match="'custom_loss': 'brightnesz' is not one of"):
        resolve({**quick, "custom_loss": "brightnesz"})


def test_style_loss_follows_the_style_picture(quick, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no VGG16 weights, whatever this machine has
    style = tmp_path / "stripes.png"
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::8] = (255, 200, 0)
    Image.fromarray(stripes).save(style)
    session = Session(resolve({**quick, "custom_loss": "style", "style_file": str(style), "style_model": "random",
                               "prompts": "x:0"}))
    first = session.step()["style"]
    assert first > 0 and session.drawer.cells.grad.abs().sum() > 0
    with pytest.raises(SettingsError, match="style loss needs torchvision's VGG16 weights"):
        resolve({**quick, "custom_loss": "style", "style_file": str(style)})
    with pytest.raises(SettingsError, match="'style' needs style_file"):
        resolve({**quick, "custom_loss": "style", "style_model": "random"})


def test_pixrays_readme_python_example_names_what_is_missing():
    import pixray

    with pytest.raises(SettingsError, match="'aesthetic': pixray's aesthetic loss needs an aesthetic predictor"):
        pixray.run("an extremely hairy panda bear", "vdiff", custom_loss="aesthetic", outdir="outputs/hairout")
    with pytest.raises(SettingsError, match="vdiff drawer needs"):
        pixray.run("an extremely hairy panda bear", "vdiff", outdir="outputs/hairout")


# pixray 1.9's setup_parser dests, plus the keys its drawers, filters and losses added (test data)
PIXRAY_KEYS = """prompts spot_prompts spot_prompts_off spot_file labels vector_prompts image_prompts
image_prompt_weight image_prompt_shuffle image_labels image_label_weight iterations save_every display_every
display_clear overlay_every overlay_offset overlay_image quality aspect ezsize scale overlay_alpha size init_image
init_image_alpha init_noise target_images animation_dir animation_alpha init_weight init_weight_dist
init_weight_cos init_weight_pix perceptors clip_models noise_prompt_seeds noise_prompt_weights learning_rate
learning_rate_drops auto_stop num_cuts batches cut_pow seed optimiser output make_video cudnn_determinism palette
transparency alpha_weight alpha_use_g alpha_gamma drawer filters custom_loss pixel_size pixel_scale pixel_type
vqgan_model vqgan_config vqgan_checkpoint strokes min_stroke_width max_stroke_width allow_paper_color fft_use
fft_decay fft_wave fft_sharp fft_colors fft_lrate wallpaper_type wallpaper_edge_match wallpaper_shift lookup_beta
edge_thickness edge_margins edge_color edge_color_weight global_color_weight smoothness_type style_file
styleloss_content_weight use_pixeldraw save_intermediates""".split()


def test_every_pixray_key_and_short_flag_is_ours_an_alias_a_spelling_or_ignored_with_a_reason():
    from pixray.compat import PIXRAY_IGNORED, PIXRAY_SHORT_FLAGS, PIXRAY_SPELLINGS
    from pixray.settings import ALIASES, FIELDS

    covered = set(FIELDS) | set(ALIASES) | set(PIXRAY_SPELLINGS) | set(PIXRAY_IGNORED)
    assert [key for key in PIXRAY_KEYS if key not in covered] == []
    assert [name for name in PIXRAY_SHORT_FLAGS.values() if name not in covered] == []
    assert all(ALIASES[alias] in FIELDS for alias in ALIASES)
