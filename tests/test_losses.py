import pytest
import torch
from PIL import Image

from pixray import SettingsError
from pixray.losses import LOSSES, LossContext, build_losses, parse_custom_loss
from pixray.session import Session
from pixray.settings import resolve

TINY_NAME = "pixray-tiny:random"


def ctx(image, iteration=0, iterations=10, palette=None, tile=False):
    return LossContext(image, iteration, iterations, palette, tile)


def loss(name, weight=1.0, **values):
    settings = resolve({"prompts": "x", **values})
    return LOSSES[name](settings, weight)


def test_parse_custom_loss_and_errors():
    assert parse_custom_loss("symmetry:0.5") == ("symmetry", 0.5)
    assert parse_custom_loss("Edge") == ("edge", 1.0)
    with pytest.raises(SettingsError, match="'custom_loss': 'shiny' is not one of palette, saturation"):
        resolve({"prompts": "x", "custom_loss": "shiny:2"})
    with pytest.raises(SettingsError, match="weight 'lots' of 'edge' is not a finite number"):
        resolve({"prompts": "x", "custom_loss": "edge:lots"})
    settings = resolve({"prompts": "x", "custom_loss": "symmetry:0.5,smoothness"})
    assert [(type(l).name, l.weight) for l in build_losses(settings)] == [("symmetry", 0.5), ("smoothness", 1.0)]


def test_symmetry():
    symmetric = torch.tensor([0.1, 0.9, 0.9, 0.1]).view(1, 1, 1, 4).expand(1, 3, 2, 4)
    assert loss("symmetry")(ctx(symmetric)) == 0
    ramp = torch.linspace(0, 1, 4).view(1, 1, 1, 4).expand(1, 3, 2, 4)
    assert loss("symmetry", 2.0)(ctx(ramp)).item() == pytest.approx(2 * (1 + 1 / 3) / 2)


def test_saturation():
    grey = torch.full((1, 3, 2, 2), 0.4)
    red = torch.tensor([1.0, 0, 0]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    assert loss("saturation")(ctx(grey)) == 0
    assert loss("saturation")(ctx(red)).item() == pytest.approx(-1.0)   # pixray's sign: positive = more colour


def test_smoothness_and_its_wrap_around_in_tile_mode():
    flat = torch.full((1, 3, 4, 4), 0.5)
    assert loss("smoothness")(ctx(flat)) == 0
    checker = ((torch.arange(4)[:, None] + torch.arange(4)[None]) % 2).float().expand(1, 3, 4, 4)
    assert loss("smoothness")(ctx(checker)).item() == pytest.approx(2.0)
    halves = torch.cat([torch.zeros(1, 3, 4, 2), torch.ones(1, 3, 4, 2)], 3)
    assert loss("smoothness")(ctx(halves, tile=True)) > loss("smoothness")(ctx(halves))


def test_edge_pulls_the_border_to_the_colour():
    white = torch.ones(1, 3, 32, 32)
    assert loss("edge")(ctx(white)) == 0
    black_border = white.clone()
    black_border[..., :2, :] = 0
    assert loss("edge")(ctx(black_border)) > 0
    assert loss("edge", edge_color="black")(ctx(torch.zeros(1, 3, 32, 32))) == 0
    with pytest.raises(SettingsError, match="'edge_color': unknown colour 'blorp'"):
        resolve({"prompts": "x", "custom_loss": "edge", "edge_color": "blorp"})


def test_palette_loss_is_zero_on_palette_colours_and_anneals():
    palette = torch.tensor([[0.0, 0, 0], [1, 1, 1]])
    exact = torch.tensor([0.0, 1.0]).view(1, 1, 1, 2).expand(1, 3, 1, 2)
    assert loss("palette")(ctx(exact, palette=palette)).item() == pytest.approx(0, abs=1e-3)
    grey = torch.full((1, 3, 2, 2), 0.5)
    early = loss("palette")(ctx(grey, 0, 10, palette)).item()
    late = loss("palette")(ctx(grey, 9, 10, palette)).item()
    assert 0 < early < late and late == pytest.approx(0.5 * 3 ** 0.5, rel=1e-3)
    assert loss("palette")(ctx(grey)).item() == 0  # no palette set


def test_soft_palette_mode_adds_the_loss_and_pulls_colours_onto_the_palette(quick):
    quiet = {**quick, "prompts": "x:0", "palette": "1bit", "palette_weight": 5.0, "iterations": 10}
    assert Session(resolve(quiet)).custom_losses == []   # the default maps onto the palette only at the end
    session = Session(resolve({**quiet, "palette_mode": "soft"}))
    def distance():
        cells = session.drawer.cells.detach()
        return torch.minimum(cells, 1 - cells).mean().item()
    before = distance()
    for _ in session.iterate():
        pass
    assert [type(l).name for l in session.custom_losses] == ["palette"]
    assert distance() < before


def test_paper_is_white_and_for_a_transparent_picture_clear():
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    assert loss("paper")(ctx(torch.ones(1, 3, 2, 2))).item() < 2e-3
    assert loss("paper")(ctx(red)).item() == pytest.approx(2 ** 0.5, rel=1e-4)  # each pixel's distance from white
    # transparent: what the prompt does not ask for is clear, whatever colour a clear cell holds
    half = torch.tensor([[1.0, 0.0], [0.0, 0.5]]).view(1, 1, 2, 2)
    assert loss("paper")(LossContext(red, 0, 10, None, alpha=torch.zeros(1, 1, 2, 2))) == 0
    assert loss("paper")(LossContext(torch.ones(1, 3, 2, 2), 0, 10, None, alpha=half)).item() == pytest.approx(1.25 / 4)


def test_paper_pulls_a_nearly_white_pixel_as_hard_as_a_coloured_one():
    """A squared pull faded near white and left pastel halos around the thing (MODEL_CARD.md)."""
    image = torch.tensor([[0.97, 0.95, 0.99], [0.9, 0.1, 0.2]]).T.reshape(1, 3, 1, 2).clone().requires_grad_()
    loss("paper")(ctx(image)).backward()
    pale, red = image.grad[0, :, 0, 0], image.grad[0, :, 0, 1]
    assert pale.norm().item() == pytest.approx(red.norm().item(), rel=1e-3)
    assert (pale < 0).all() and (red < 0).all()  # towards white


def test_a_transparent_run_keeps_its_background_clear_not_white(quick):
    """Steered with white paper as the blank, a transparent sprite's surroundings stayed opaque white
    and the thing itself was cut out of them as a clear hole (MODEL_CARD.md)."""
    session = Session(resolve({**quick, "prompts": "x:0", "transparent": True, "custom_loss": "paper:1",
                               "iterations": 10}))
    assert session._losses(first=True)["paper"].item() == pytest.approx(
        session.drawer.synth()[:, 3].square().mean().item(), rel=1e-5)
    before = session.drawer.synth()[:, 3].mean().item()
    for _ in range(10):
        session.step()
    assert session.drawer.synth()[:, 3].mean().item() < before - 0.2


def test_custom_loss_alone_changes_the_picture_its_way(quick):
    session = Session(resolve({**quick, "prompts": "x:0", "custom_loss": "symmetry:5"}))
    image = session.drawer.synth().detach()
    before = (image - image.flip(3)).abs().mean()
    for _ in range(10):
        parts = session.step()
    image = session.drawer.synth().detach()
    assert "symmetry" in parts and (image - image.flip(3)).abs().mean() < before


@pytest.mark.parametrize("kind", ["mse", "l1"])
def test_pixel_anchoring_gives_gradients_towards_the_init_image(quick, tmp_path, kind):
    path = tmp_path / "init.png"
    Image.new("RGB", (64, 48), (250, 10, 10)).save(path)
    values = {**quick, "prompts": "x:0", "init_image": str(path), "init_image_alpha": 0, "init_weight_pix": 1.0,
              "init_loss": kind}
    session = Session(resolve(values))
    target = session.init_image
    before = (session.drawer.synth().detach() - target).abs().mean()
    parts = session.step()
    assert parts["init_image pixels"] > 0
    assert session.drawer.cells.grad.abs().sum() > 0
    for _ in range(5):
        session.step()
    assert (session.drawer.synth().detach() - target).abs().mean() < before


def test_clip_anchoring_gives_gradients(quick, tmp_path):
    path = tmp_path / "init.png"
    Image.new("RGB", (64, 48), (10, 200, 10)).save(path)
    session = Session(resolve({**quick, "prompts": "x:0", "init_image": str(path), "init_image_alpha": 0,
                               "init_clip_weight": 1.0}))
    parts = session.step()
    assert f"{TINY_NAME}:init_image" in parts and parts[f"{TINY_NAME}:init_image"] > 0
    assert session.drawer.cells.grad.abs().sum() > 0


def test_anchoring_needs_an_init_image():
    with pytest.raises(SettingsError, match="needs an init_image"):
        resolve({"prompts": "x", "init_weight": 1})


