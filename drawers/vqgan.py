"""VQGAN drawer: optimises continuous latents, quantised straight-through to the codebook and
decoded to the image, as in VQGAN+CLIP. Loads official taming-transformers config + checkpoint."""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
import torch.nn.functional as F

from pixray.errors import SettingsError, WeightsUnavailableError
from pixray.images import tensor_to_pil
from pixray.taming import load_vqgan

from .base import Drawer, DrawerOutput

# Where the taming authors publish the checkpoints pixray users know (heibox, University of Heidelberg).
RANDOM = "random"  # vqgan_checkpoint for random weights: tests and benchmarks of the real architecture
DOWNLOADS = {
    "imagenet_f16_16384": "https://heibox.uni-heidelberg.de/d/a7530b09fed84f80a887/",
    "imagenet_f16_1024": "https://heibox.uni-heidelberg.de/d/8088892a516d4e3baf92/",
}


def vqgan_dirs() -> list[Path]:
    """Folders searched for '<name>.yaml' + '<name>.ckpt' (or 'vqgan_<name>.*', pixray's naming)."""
    cache = Path(os.environ.get("PIXRAY_CACHE", Path.home() / ".cache" / "pixray")) / "vqgan"
    return [cache, Path("models")]


# The published architectures of taming's ImageNet models (their config files' model params), so
# vqgan_checkpoint='random' needs no config file.
_F16 = dict(double_z=False, z_channels=256, resolution=256, in_channels=3, out_ch=3, ch=128, ch_mult=[1, 1, 2, 2, 4],
            num_res_blocks=2, attn_resolutions=[16], dropout=0.0)
ARCHITECTURES = {
    "imagenet_f16_16384": dict(embed_dim=256, n_embed=16384, ddconfig=_F16),
    "imagenet_f16_1024": dict(embed_dim=256, n_embed=1024, ddconfig=_F16),
}


def find_vqgan_files(settings) -> tuple[str | None, str]:
    """The config and checkpoint to load, or one line saying where to put them. A random checkpoint
    without a config uses the named model's published architecture (config None)."""
    if settings.vqgan_checkpoint == RANDOM and not settings.vqgan_config:
        if settings.vqgan_model not in ARCHITECTURES:
            raise SettingsError(f"setting 'vqgan_checkpoint': 'random' weights for {settings.vqgan_model!r} need "
                                f"its vqgan_config (a taming .yaml); built in: {', '.join(ARCHITECTURES)}")
        return None, RANDOM
    if settings.vqgan_config or settings.vqgan_checkpoint:
        if not (settings.vqgan_config and settings.vqgan_checkpoint):
            raise SettingsError("settings 'vqgan_config' and 'vqgan_checkpoint' go together: give both")
        for name in ("vqgan_config", "vqgan_checkpoint"):
            if name == "vqgan_checkpoint" and settings.vqgan_checkpoint == RANDOM:
                continue
            path = Path(getattr(settings, name))
            if not path.is_file():
                what = "is a folder, not a file" if path.is_dir() else "does not exist"
                raise SettingsError(f"setting {name!r}: {str(path)!r} {what}")
        return settings.vqgan_config, settings.vqgan_checkpoint
    name = settings.vqgan_model
    for folder in vqgan_dirs():
        for stem in (name, f"vqgan_{name}"):
            config, checkpoint = folder / f"{stem}.yaml", folder / f"{stem}.ckpt"
            if config.is_file() and checkpoint.is_file():
                return str(config), str(checkpoint)
    where = DOWNLOADS.get(name, "the taming-transformers README")
    raise WeightsUnavailableError(
        f"VQGAN model {name!r} not found: download its config (.yaml) and checkpoint (.ckpt) from {where}, "
        f"save them as {vqgan_dirs()[0]}/{name}.yaml and {name}.ckpt, or pass vqgan_config and vqgan_checkpoint")


class StraightThroughClamp(torch.autograd.Function):
    """Clamp to [0,1] in the forward pass, pass gradients through unchanged (pixray's ClampWithGrad idea:
    colours beyond the range can still be pulled back)."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp(0, 1)

    @staticmethod
    def backward(ctx, grad):
        return grad


class VQGANDrawer(Drawer):
    default_learning_rate = 0.1

    @classmethod
    def resolve_settings(cls, settings) -> None:
        settings.vqgan_config, settings.vqgan_checkpoint = find_vqgan_files(settings)

    shares_models = True

    def __init__(self, settings, device, generator, models=None):
        super().__init__(settings, device, generator, models)
        checkpoint = None if settings.vqgan_checkpoint == RANDOM else settings.vqgan_checkpoint
        config = settings.vqgan_config or ARCHITECTURES[settings.vqgan_model]
        key = (str(config), str(checkpoint), settings.vqgan_trust_checkpoint)
        self.model = self.load_model(key, lambda: self._load(config, checkpoint))
        self.width, self.height = settings.size
        factor = self.model.factor
        # Latents cover the output rounded up to the model's stride; the decode is centre-cropped.
        self.latent_h, self.latent_w = math.ceil(self.height / factor), math.ceil(self.width / factor)
        codebook = self.model.quantize.embedding.weight
        self.z_min = codebook.min(0).values.view(1, -1, 1, 1)
        self.z_max = codebook.max(0).values.view(1, -1, 1, 1)
        self.z = torch.zeros(1, codebook.shape[1], self.latent_h, self.latent_w, device=device, requires_grad=True)

    def _load(self, config, checkpoint):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # random weights are the same in every run
            return load_vqgan(config, checkpoint, self.settings.vqgan_trust_checkpoint).to(self.device)

    def init_from_image(self, image):
        codes = torch.randint(0, self.model.quantize.embedding.num_embeddings, (1, self.latent_h, self.latent_w),
                              generator=self.generator).to(self.device)
        start = self.model.quantize.lookup(codes)
        if image is not None:
            factor = self.model.factor
            size = (self.latent_h * factor, self.latent_w * factor)
            pixels = F.interpolate(image.to(self.device), size=size, mode="bilinear", align_corners=False)
            with torch.no_grad():
                encoded = self.model.encode(pixels * 2 - 1)
            alpha = self.settings.init_image_alpha / 255
            start = alpha * encoded + (1 - alpha) * start
        with torch.no_grad():
            self.z.copy_(start)

    def param_groups(self):
        return [{"params": [self.z], "lr": self.settings.learning_rate}]

    def synth(self):
        decoded = self.model.decode(self.model.quantize(self.z))
        image = StraightThroughClamp.apply((decoded + 1) / 2)
        top = (image.shape[2] - self.height) // 2
        left = (image.shape[3] - self.width) // 2
        return image[:, :, top:top + self.height, left:left + self.width]

    def clamp(self):
        with torch.no_grad():
            self.z.copy_(torch.maximum(torch.minimum(self.z, self.z_max), self.z_min))

    def export(self):
        with torch.no_grad():
            return DrawerOutput(image=tensor_to_pil(self.synth()))
