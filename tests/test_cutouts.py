import warnings

import torch

from pixray.cutouts import Cutouts


def _image():
    return torch.rand(1, 3, 45, 80, generator=torch.Generator().manual_seed(0))


def test_shape_and_range():
    cuts = Cutouts(32, 6)(_image(), torch.Generator().manual_seed(1))
    assert cuts.shape == (6, 3, 32, 32)
    assert 0 <= cuts.min() and cuts.max() <= 1


def test_same_seed_same_batch_and_global_rng_untouched():
    cutouts = Cutouts(32, 4)
    state = torch.get_rng_state()
    a = cutouts(_image(), torch.Generator().manual_seed(5))
    assert torch.equal(torch.get_rng_state(), state)
    b = cutouts(_image(), torch.Generator().manual_seed(5))
    c = cutouts(_image(), torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # crops differ from each other within a batch
    assert not torch.equal(a[0], a[1])


def test_gradients_reach_the_image():
    image = _image().requires_grad_(True)
    Cutouts(32, 4)(image, torch.Generator().manual_seed(2)).sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0


def test_no_deprecation_warnings_from_kornia():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        warnings.simplefilter("error", FutureWarning)
        Cutouts(32, 2)(_image(), torch.Generator().manual_seed(3))
