import math

import pytest
import torch

from pixray import SettingsError
from pixray.losses.prompt import PromptLoss, spherical_distance
from pixray.prompts import ParsedPrompt, parse_prompt


@pytest.mark.parametrize("text, expected", [
    ("a red apple", ParsedPrompt("a red apple", 1.0, -math.inf)),
    ("a red apple:0.5", ParsedPrompt("a red apple", 0.5, -math.inf)),
    ("blurry:-1", ParsedPrompt("blurry", -1.0, -math.inf)),
    ("castle:2:0.8", ParsedPrompt("castle", 2.0, 0.8)),
    ("note: a castle", ParsedPrompt("note: a castle", 1.0, -math.inf)),
    ("https://x.org/a.png:3", ParsedPrompt("https://x.org/a.png", 3.0, -math.inf)),
    ("C:/art/ref.png", ParsedPrompt("C:/art/ref.png", 1.0, -math.inf)),
    ("ratio 16:9 poster", ParsedPrompt("ratio 16:9 poster", 1.0, -math.inf)),
    ("  spaced  :1e-1 ", ParsedPrompt("spaced", 0.1, -math.inf)),
])
def test_parse_prompt(text, expected):
    assert parse_prompt(text) == expected


def test_prompt_without_text_is_an_error():
    with pytest.raises(SettingsError, match="has no text"):
        parse_prompt(":0.5")


def test_spherical_distance_known_angles():
    e = torch.eye(3)
    d = spherical_distance(torch.stack([e[0], e[1], -e[0]]), e[0:1]).squeeze(1)
    assert torch.allclose(d, torch.tensor([0.0, math.pi ** 2 / 8, math.pi ** 2 / 2]), atol=1e-5)
    # scale invariant: only directions matter
    assert torch.allclose(spherical_distance(3 * e[1:2], e[0:1]), d[1:2, None], atol=1e-6)


def _step_distance(weight, stop=-math.inf):
    """Distance to the target before/after one gradient step on the embedding."""
    target = torch.tensor([[1.0, 0.0]])
    emb = torch.tensor([[0.6, 0.8]], requires_grad=True)
    loss = PromptLoss(target, weight, stop)(emb)
    loss.backward()
    before = spherical_distance(emb.detach(), target).item()
    after = spherical_distance(emb.detach() - 0.1 * emb.grad, target).item()
    return before, after, emb.grad


def test_positive_weight_pulls_and_negative_weight_pushes():
    before, after, _ = _step_distance(1.0)
    assert after < before
    before, after, _ = _step_distance(-1.0)
    assert after > before


def test_loss_value_is_weight_times_distance():
    target = torch.tensor([[1.0, 0.0]])
    emb = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert PromptLoss(target, 2.0)(emb).item() == pytest.approx(2.0 * (math.pi ** 2 / 8) / 2)


def test_stop_ends_the_gradient_below_the_threshold():
    _, _, grad = _step_distance(1.0, stop=5.0)
    assert torch.count_nonzero(grad) == 0
    _, _, grad = _step_distance(1.0, stop=0.01)
    assert torch.count_nonzero(grad) > 0
