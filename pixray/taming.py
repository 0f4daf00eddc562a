"""A VQGAN (Esser et al., "Taming Transformers") encoder/decoder written for pixray.

It reads the official taming-transformers files (config YAML + Lightning .ckpt) without importing
taming, Lightning or omegaconf: module and parameter names match taming's VQModel, so its
state dicts load as they are. Checked against taming's own outputs in tests/test_vqgan.py.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml
from torch import nn

from .errors import PixrayError


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(32, channels, eps=1e-6, affine=True)


def _swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


class ResnetBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.norm1 = _norm(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm2 = _norm(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        if in_channels != out_channels:
            self.nin_shortcut = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x):
        h = self.conv1(_swish(self.norm1(x)))
        h = self.conv2(_swish(self.norm2(h)))
        return (self.nin_shortcut(x) if hasattr(self, "nin_shortcut") else x) + h


class AttnBlock(nn.Module):
    """Single-head self-attention over all positions."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = _norm(channels)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(channels, channels, 1) for _ in range(4))

    def forward(self, x):
        b, c, height, width = x.shape
        h = self.norm(x)
        q, k, v = (layer(h).reshape(b, c, height * width).transpose(1, 2) for layer in (self.q, self.k, self.v))
        out = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(c)) v
        return x + self.proj_out(out.transpose(1, 2).reshape(b, c, height, width))


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # asymmetric pad, as taming


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class _Level(nn.Module):
    """One resolution level: `block` (resnets), `attn` (after each block, when used), and a resampler."""

    def __init__(self, blocks: list[nn.Module], attns: list[nn.Module]):
        super().__init__()
        self.block = nn.ModuleList(blocks)
        self.attn = nn.ModuleList(attns)

    def forward(self, h):
        for i, block in enumerate(self.block):
            h = block(h)
            if len(self.attn):
                h = self.attn[i](h)
        return h


class _Middle(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.block_1 = ResnetBlock(channels, channels)
        self.attn_1 = AttnBlock(channels)
        self.block_2 = ResnetBlock(channels, channels)

    def forward(self, h):
        return self.block_2(self.attn_1(self.block_1(h)))


class Encoder(nn.Module):
    def __init__(self, *, ch, ch_mult, num_res_blocks, attn_resolutions, in_channels, resolution, z_channels,
                 double_z=False, **_):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        self.down = nn.ModuleList()
        res, channels = resolution, ch
        for level, mult in enumerate(ch_mult):
            out = ch * mult
            blocks = [ResnetBlock(channels if i == 0 else out, out) for i in range(num_res_blocks)]
            attns = [AttnBlock(out) for _ in blocks] if res in attn_resolutions else []
            stage = _Level(blocks, attns)
            if level != len(ch_mult) - 1:
                stage.downsample = Downsample(out)
                res //= 2
            self.down.append(stage)
            channels = out
        self.mid = _Middle(channels)
        self.norm_out = _norm(channels)
        self.conv_out = nn.Conv2d(channels, 2 * z_channels if double_z else z_channels, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for stage in self.down:
            h = stage(h)
            if hasattr(stage, "downsample"):
                h = stage.downsample(h)
        return self.conv_out(_swish(self.norm_out(self.mid(h))))


class Decoder(nn.Module):
    def __init__(self, *, ch, out_ch, ch_mult, num_res_blocks, attn_resolutions, resolution, z_channels, **_):
        super().__init__()
        channels = ch * ch_mult[-1]
        res = resolution // 2 ** (len(ch_mult) - 1)
        self.conv_in = nn.Conv2d(z_channels, channels, 3, padding=1)
        self.mid = _Middle(channels)
        stages = []
        for level in reversed(range(len(ch_mult))):
            out = ch * ch_mult[level]
            blocks = [ResnetBlock(channels if i == 0 else out, out) for i in range(num_res_blocks + 1)]
            attns = [AttnBlock(out) for _ in blocks] if res in attn_resolutions else []
            stage = _Level(blocks, attns)
            if level != 0:
                stage.upsample = Upsample(out)
                res *= 2
            stages.insert(0, stage)  # taming indexes `up` by level, lowest resolution last
            channels = out
        self.up = nn.ModuleList(stages)
        self.norm_out = _norm(channels)
        self.conv_out = nn.Conv2d(channels, out_ch, 3, padding=1)

    def forward(self, z):
        h = self.mid(self.conv_in(z))
        for stage in reversed(self.up):
            h = stage(h)
            if hasattr(stage, "upsample"):
                h = stage.upsample(h)
        return self.conv_out(_swish(self.norm_out(h)))


class Codebook(nn.Module):
    """taming's VectorQuantizer: nearest embedding, straight-through gradient."""

    def __init__(self, n_embed: int, embed_dim: int):
        super().__init__()
        self.embedding = nn.Embedding(n_embed, embed_dim)

    def codes(self, z: torch.Tensor) -> torch.Tensor:
        """(B,C,H,W) → (B,H,W) nearest codebook indices."""
        flat = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        dists = (flat.square().sum(1, keepdim=True) - 2 * flat @ self.embedding.weight.T
                 + self.embedding.weight.square().sum(1))
        return dists.argmin(1).reshape(z.shape[0], *z.shape[2:])

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        return self.embedding(codes).permute(0, 3, 1, 2)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        quantized = self.lookup(self.codes(z))
        return z + (quantized - z).detach()


class VQGAN(nn.Module):
    """Encoder, codebook and decoder with taming's VQModel parameter names. Images in [-1, 1]."""

    def __init__(self, embed_dim: int, n_embed: int, ddconfig: dict, **_):
        super().__init__()
        self.encoder = Encoder(**ddconfig)
        self.decoder = Decoder(**ddconfig)
        self.quantize = Codebook(n_embed, embed_dim)
        self.quant_conv = nn.Conv2d(ddconfig["z_channels"], embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(embed_dim, ddconfig["z_channels"], 1)
        self.factor = 2 ** (len(ddconfig["ch_mult"]) - 1)

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """Continuous latents before quantisation."""
        return self.quant_conv(self.encoder(image))

    def decode(self, quantized: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.post_quant_conv(quantized))


SUPPORTED_TARGETS = ("taming.models.vqgan.VQModel",)


def read_config(path: str | Path) -> dict:
    """The model params of a taming config YAML (plain YAML: omegaconf is not needed)."""
    try:
        config = yaml.safe_load(Path(path).read_text())
        model = config["model"]
        target, params = model["target"], model["params"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as err:
        raise PixrayError(f"VQGAN config {str(path)!r} is not a taming config (model.target/params): {err}") from None
    if target not in SUPPORTED_TARGETS:
        raise PixrayError(f"VQGAN config {str(path)!r}: model {target!r} is not supported; "
                          f"supported: {', '.join(SUPPORTED_TARGETS)}")
    return params


def _state_dict(checkpoint_path: Path, trust: bool = False) -> dict:
    """Weights only, unless the user trusts the file: a full unpickle can run code from it."""
    try:
        data = torch.load(checkpoint_path, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError:
        raise PixrayError(f"setting 'vqgan_checkpoint': {str(checkpoint_path)!r} holds Python objects besides "
                          f"weights, and loading them could run code from the file; if you trust where it came "
                          f"from, set vqgan_trust_checkpoint=true") from None
    except Exception as err:  # zip, pickle-opcode and key errors alike: not a checkpoint torch can read
        reason = str(err).splitlines()[0] if str(err) and not isinstance(err, KeyError) else "unreadable"
        raise PixrayError(f"setting 'vqgan_checkpoint': {str(checkpoint_path)!r} is not a taming checkpoint "
                          f"({reason})") from None
    if not isinstance(data, dict):
        raise PixrayError(f"setting 'vqgan_checkpoint': {str(checkpoint_path)!r} is not a taming checkpoint")
    return data.get("state_dict", data)


def load_vqgan(config: str | Path | dict, checkpoint_path: str | Path | None, trust: bool = False) -> VQGAN:
    """Build the network from a taming config (a file, or its model params) and load its checkpoint
    (None: random weights). `trust` allows a full unpickle of the checkpoint (the user's explicit choice)."""
    model = VQGAN(**(config if isinstance(config, dict) else read_config(config)))
    if checkpoint_path is not None:
        if trust:
            warnings.warn(f"vqgan_trust_checkpoint: unpickling {str(checkpoint_path)!r} fully; this runs any "
                          f"code the file contains", stacklevel=2)
        state = _state_dict(Path(checkpoint_path), trust)
        wanted = model.state_dict().keys()
        missing = [k for k in wanted if k not in state]
        if missing:
            raise PixrayError(f"VQGAN checkpoint {str(checkpoint_path)!r} does not match its config "
                              f"(missing {len(missing)} weights, e.g. {missing[0]!r})")
        model.load_state_dict({k: state[k] for k in wanted})
    return model.eval().requires_grad_(False)
