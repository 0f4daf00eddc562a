"""Style loss (pixray's `style` with style_file): the picture's VGG16 feature statistics (Gram matrices
at four depths, Gatys et al.) pulled towards those of the style image, so textures and colours follow
it while the prompt decides the content. pixray used STROTSS on the same network; Gram matching is the
simpler, classic form.

The weights are torchvision's VGG16 (vgg16-397923af.pth in torch's hub cache, or the file named by
style_model); style_model=random builds the same network untrained, for tests."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import SettingsError
from .base import Loss, LossContext

VGG16_FILE = "vgg16-397923af.pth"
LAYERS = (3, 8, 15, 22)  # relu1_2, relu2_2, relu3_3, relu4_3
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
SIDE = 224


def vgg16_weights(style_model: str | None) -> Path | None:
    """The weights file to load (None for 'random'); one clear line when it is not there."""
    if style_model == "random":
        return None
    path = Path(style_model) if style_model else Path(torch.hub.get_dir()) / "checkpoints" / VGG16_FILE
    if not path.is_file():
        raise SettingsError(f"the style loss needs torchvision's VGG16 weights: {str(path)!r} does not exist "
                            f"(download {VGG16_FILE} there, or give its path in style_model)")
    return path


def vgg16_features(style_model: str | None) -> torch.nn.Module:
    from torchvision.models import vgg16

    network = vgg16(weights=None).features[:LAYERS[-1] + 1]
    path = vgg16_weights(style_model)
    if path is not None:
        state = torch.load(path, map_location="cpu", weights_only=True)
        network.load_state_dict({k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")})
    return network.eval().requires_grad_(False)


def gram_matrices(network: torch.nn.Module, image: torch.Tensor) -> list[torch.Tensor]:
    x = (F.interpolate(image, size=(SIDE, SIDE), mode="bilinear", align_corners=False, antialias=True)
         - MEAN.to(image.device)) / STD.to(image.device)
    grams = []
    for index, layer in enumerate(network):
        x = layer(x)
        if index in LAYERS:
            flat = x.flatten(2)
            grams.append(flat @ flat.transpose(1, 2) / flat.shape[-1])
    return grams


class StyleLoss(Loss):
    name = "style"

    def __init__(self, settings, weight: float = 1.0):
        super().__init__(settings, weight)  # resolve() checked style_file and the weights
        self.network = vgg16_features(settings.style_model)
        self.target: list[torch.Tensor] | None = None

    def compute(self, ctx: LossContext):
        from ..image_files import open_image
        from ..images import pil_to_tensor

        if self.target is None or self.target[0].device != ctx.image.device:
            self.network = self.network.to(ctx.image.device)
            style = pil_to_tensor(open_image(self.settings.style_file, "style_file")).to(ctx.image.device)
            with torch.no_grad():
                self.target = gram_matrices(self.network, style)
        grams = gram_matrices(self.network, ctx.image)
        return sum(F.mse_loss(g, t) / t.square().mean().clamp(min=1e-8) for g, t in zip(grams, self.target))
