import pytest
import torch
import torch.nn.functional as F

import pixray
from pixray.drawers import drawer_class
from pixray.drawers.pixel import PixelDrawer


def make(seed=0, **values):
    pixray.reset_settings()
    pixray.add_settings(prompts="x", clip_models="pixray-tiny:random", **values)
    settings = pixray.apply_settings()
    drawer = drawer_class(settings.drawer)(settings, torch.device("cpu"), torch.Generator().manual_seed(seed))
    return drawer, settings


def test_registry_gives_the_pixel_drawer():
    assert drawer_class("pixel") is PixelDrawer


@pytest.mark.filterwarnings("ignore:setting 'size'.*mixels")  # uneven cells on purpose
@pytest.mark.parametrize("size, cells", [((64, 48), (16, 12)), ((70, 45), (16, 9)), ((33, 17), (33, 17))])
def test_synth_shape_range_and_cells(size, cells):
    drawer, _ = make(size=size, pixel_size=cells)
    drawer.init_from_image(None)
    image = drawer.synth()
    assert image.shape == (1, 3, size[1], size[0])
    assert 0 <= image.min() and image.max() <= 1
    # every output pixel is the colour of one cell, and every cell appears
    colours = {tuple(c) for c in image[0].reshape(3, -1).T.tolist()}
    assert colours == {tuple(c) for c in drawer.cells[0].reshape(3, -1).T.tolist()}


def test_divisible_size_gives_uniform_blocks():
    drawer, _ = make(size=(64, 48), pixel_size=(16, 12))
    drawer.init_from_image(None)
    image = drawer.synth()[0]
    blocks = image.reshape(3, 12, 4, 16, 4)
    assert torch.equal(blocks, blocks[:, :, :1, :, :1].expand_as(blocks))
    assert torch.equal(blocks[:, :, 0, :, 0], drawer.cells[0])


def test_gradient_matches_finite_differences():
    drawer, _ = make(size=(20, 15), pixel_size=(4, 3))
    drawer.init_from_image(None)
    weights = torch.rand(1, 3, 15, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(1))

    def loss_of(cells):
        drawer.cells = cells
        return (drawer.synth() * weights).square().sum()

    cells = drawer.cells.detach().double().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda c: loss_of(c), (cells,), eps=1e-6, atol=1e-5)
    # the analytic gradient of a cell is the sum over the pixels it covers
    loss_of(cells).backward()
    expected = F.avg_pool2d(2 * drawer.synth().detach() * weights ** 2, 5, divisor_override=1)
    assert torch.allclose(cells.grad, expected)


def test_init_from_image_uses_cell_averages():
    drawer, _ = make(size=(8, 4), pixel_size=(2, 1))
    image = torch.zeros(1, 3, 4, 8)
    image[:, 0, :, :4] = 1.0           # left half red
    image[:, 2, :2, 4:] = 1.0          # top of the right half blue
    drawer.init_from_image(image)
    assert torch.allclose(drawer.cells[0, :, 0, 0], torch.tensor([1.0, 0, 0]))
    assert torch.allclose(drawer.cells[0, :, 0, 1], torch.tensor([0, 0, 0.5]))


def test_init_image_alpha_blends_with_the_same_noise():
    image = torch.ones(1, 3, 12, 16)
    noise_only, _ = make(size=(16, 12), pixel_size=(4, 3))
    noise_only.init_from_image(None)
    half, _ = make(size=(16, 12), pixel_size=(4, 3), init_image_alpha=102)
    half.init_from_image(image)
    assert torch.allclose(half.cells, 0.4 * 1 + 0.6 * noise_only.cells)
    zero, _ = make(size=(16, 12), pixel_size=(4, 3), init_image_alpha=0)
    zero.init_from_image(image)
    assert torch.equal(zero.cells, noise_only.cells)


@pytest.mark.parametrize("noise", ["pixels", "gradient", "none"])
def test_init_noise_kinds_are_in_range_and_seeded(noise):
    a, _ = make(seed=3, size=(16, 12), pixel_size=(8, 6), init_noise=noise)
    b, _ = make(seed=3, size=(16, 12), pixel_size=(8, 6), init_noise=noise)
    a.init_from_image(None)
    b.init_from_image(None)
    assert torch.equal(a.cells, b.cells)
    assert 0 <= a.cells.min() and a.cells.max() <= 1
    if noise == "none":
        assert torch.all(a.cells == 0.5)


def test_clamp_keeps_colours_in_range_after_a_big_step():
    drawer, settings = make(size=(16, 12), pixel_size=(8, 6), learning_rate=5.0)
    drawer.init_from_image(None)
    optimiser = torch.optim.Adam(drawer.param_groups())
    (-drawer.synth().sum() + 2 * drawer.synth()[:, 0].sum()).backward()
    optimiser.step()
    assert drawer.cells.max() > 1 or drawer.cells.min() < 0
    drawer.clamp()
    assert 0 <= drawer.cells.min() and drawer.cells.max() <= 1


def test_export_gives_the_image_and_the_native_sprite():
    drawer, _ = make(size=(64, 48), pixel_size=(16, 12))
    drawer.init_from_image(None)
    out = drawer.export()
    assert out.image.size == (64, 48) and out.sprite.size == (16, 12)
    assert out.image.resize((16, 12), 0).tobytes() == out.sprite.tobytes()
    assert out.sprite.resize((64, 48), 0).tobytes() == out.image.tobytes()
