import xml.etree.ElementTree as ET

import pytest
import torch

from pixray.vector import bezier_polyline, patch_size, rasterize, to_svg

WHITE = torch.ones(3, dtype=torch.float64)


def line(x0, y0, x1, y1):
    """A straight stroke as one cubic segment."""
    return torch.tensor([[[x0, y0], [x0 + (x1 - x0) / 3, y0 + (y1 - y0) / 3],
                          [x0 + 2 * (x1 - x0) / 3, y0 + 2 * (y1 - y0) / 3], [x1, y1]]], dtype=torch.float64)


def render(control, widths, colors, size=(32, 24), patch=40):
    return rasterize(control, widths, colors, size, WHITE, patch)


def test_polyline_passes_through_the_end_points():
    control = torch.rand(5, 7, 2)
    points = bezier_polyline(control)
    assert points.shape == (5, 17, 2)
    assert torch.allclose(points[:, 0], control[:, 0]) and torch.allclose(points[:, 8], control[:, 3], atol=1e-6)
    assert torch.allclose(points[:, -1], control[:, -1])


def test_a_horizontal_stroke_covers_its_band_only():
    image = render(line(4, 10.5, 28, 10.5), torch.tensor([4.0], dtype=torch.float64),
                   torch.tensor([[1.0, 0, 0, 1]], dtype=torch.float64))[0]
    red = torch.tensor([1.0, 0, 0], dtype=torch.float64)
    assert torch.allclose(image[:, 10, 16], red, atol=1e-3)      # centre line
    assert torch.allclose(image[:, 9, 16], red, atol=1e-3)       # within width/2
    assert torch.allclose(image[:, 20, 16], WHITE)               # far away: paper
    assert torch.allclose(image[:, 10, 1], WHITE)                # beyond the round cap
    assert 0.2 < image[1, 12, 16] < 0.8                           # the anti-aliased edge


def test_over_compositing_in_order():
    control = torch.cat([line(2, 12.5, 30, 12.5), line(16.5, 2, 16.5, 22)])
    widths = torch.tensor([5.0, 5.0], dtype=torch.float64)
    colors = torch.tensor([[1.0, 0, 0, 0.6], [0, 0, 1.0, 0.5]], dtype=torch.float64)
    pixel = render(control, widths, colors)[0, :, 12, 16]
    red, blue = torch.tensor([1.0, 0, 0]), torch.tensor([0, 0, 1.0])
    expected = 0.5 * blue + 0.5 * (0.6 * red + 0.4 * torch.ones(3))
    assert torch.allclose(pixel.float(), expected, atol=2e-3)
    swapped = render(control.flip(0), widths.flip(0), colors.flip(0))[0, :, 12, 16]
    assert not torch.allclose(swapped, pixel, atol=1e-2)  # order matters, as in SVG


def test_many_overlapping_strokes_match_painting_them_one_by_one():
    # Thirty strokes crowd a small canvas, some hanging off its edges: the cumulative-sum compositing
    # must equal painting each stroke "over" the picture so far, in order.
    torch.manual_seed(1)
    count, size = 30, (20, 16)
    control = torch.rand(count, 7, 2, dtype=torch.float64) * torch.tensor([26.0, 22.0]) - 3
    widths = 1 + 4 * torch.rand(count, dtype=torch.float64)
    colors = torch.rand(count, 4, dtype=torch.float64)
    patch = patch_size(40, 5)
    expected = WHITE.view(1, 3, 1, 1).expand(1, 3, size[1], size[0]).clone()
    for k in range(count):
        ink = torch.tensor([[0.0, 0, 0, 1]], dtype=torch.float64) * colors[k:k + 1, 3:]
        alpha = 1 - rasterize(control[k:k + 1], widths[k:k + 1], ink, size, WHITE, patch)[:, :1]
        expected = alpha * colors[k, :3].view(1, 3, 1, 1) + (1 - alpha) * expected
    assert torch.allclose(rasterize(control, widths, colors, size, WHITE, patch), expected, atol=1e-3)


def test_gradients_match_finite_differences():
    torch.manual_seed(0)
    control = (torch.rand(3, 7, 2, dtype=torch.float64) * 12 + 4).requires_grad_()
    widths = torch.tensor([2.0, 3.0, 1.5], dtype=torch.float64, requires_grad=True)
    colors = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    fn = lambda c, w, k: rasterize(c, w, k, (20, 18), WHITE, patch_size(16, 3))
    assert torch.autograd.gradcheck(fn, (control, widths, colors), eps=1e-6, atol=1e-4)


def test_moving_a_stroke_moves_its_ink():
    colors = torch.tensor([[0.0, 0, 0, 1]], dtype=torch.float64)
    control = line(8, 6.5, 8, 18).requires_grad_()
    image = render(control, torch.tensor([3.0], dtype=torch.float64), colors)
    # column 9 lies on the stroke's anti-aliased right edge: darkening it should pull the stroke right
    loss = image[0, :, :, 9].sum()
    loss.backward()
    assert control.grad[0, :, 0].sum() < 0


def test_svg_holds_the_same_strokes():
    control = torch.rand(4, 7, 2) * 50
    widths = torch.tensor([1.0, 2, 3, 4])
    colors = torch.rand(4, 4)
    svg = ET.fromstring(to_svg(control, widths, colors, (64, 48), (1.0, 1.0, 1.0)))
    paths = svg.findall("{http://www.w3.org/2000/svg}path")
    assert svg.get("width") == "64" and len(paths) == 4
    assert paths[2].get("stroke-width") == "3.00" and paths[0].get("stroke-linecap") == "round"
    numbers = [float(v) for v in paths[1].get("d").replace("M", "").replace("C", "").split()]
    assert numbers == pytest.approx(control[1].reshape(-1).tolist(), abs=0.01)
