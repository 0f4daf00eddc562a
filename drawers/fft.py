"""The fft drawer (pixray's, after Aphantasia and Lucid): the picture is parameterised by its spectrum
rather than its pixels, so a gradient step moves whole frequencies and the picture stays smooth and
painterly early on.

fft_use: fft (a Fourier spectrum whose high frequencies are damped by 1/f^fft_decay), dwt (a wavelet
pyramid in fft_wave, e.g. coif2, db4, haar, dmey; its finest details weighted by fft_sharp), or pixel
(plain pixels, in the same colour space). Colours live in a decorrelated space (fft_colors scales it)
and pass through a sigmoid, so every parameter value is a valid colour; with init_noise=paper the page
starts white and colours are linear, clamped.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pywt
import torch
import torch.nn.functional as F

from pixray.errors import SettingsError
from pixray.images import tensor_to_pil

from .base import Drawer, DrawerOutput

USES = ("fft", "dwt", "pixel")
# The square root of natural images' colour covariance (ImageNet, as measured for Lucid), columns
# normalised: noise drawn in this space has the colours of photographs.
COLOR_SQRT = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOR_SQRT = COLOR_SQRT / COLOR_SQRT.norm(dim=0).max()
START_STD = 0.01  # the start is nearly flat grey: the prompt, not the noise, decides the picture
MAX_LEVELS = 5


def circular_synthesis(approx: torch.Tensor, detail: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """One inverse wavelet step along the last axis with periodic borders (pywt's 'periodization'):
    (..., n) and (..., n) → (..., 2n)."""
    def upsampled(x):
        return torch.stack([x, torch.zeros_like(x)], -1).flatten(-2)

    length, taps = 2 * approx.shape[-1], lo.numel()
    signal = torch.stack([upsampled(approx), upsampled(detail)], -2)          # (..., 2, 2n)
    shape = signal.shape
    flat = signal.reshape(-1, 2, length)
    reps = math.ceil((taps - 1) / length)
    padded = torch.cat([flat.repeat(1, 1, reps)[..., flat.shape[-1] * reps - (taps - 1):], flat], -1)
    kernel = torch.stack([lo.flip(0), hi.flip(0)])[None]                      # (1, 2, taps): summed over bands
    out = F.conv1d(padded, kernel.to(padded))
    return out.reshape(*shape[:-2], length).roll(-(taps // 2 - 1), -1)


def inverse_dwt2(approx: torch.Tensor, details: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                 lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """pywt.waverec2 (periodization) in torch: details from coarsest to finest as (horizontal, vertical,
    diagonal), each (..., h, w) like the approximation at its level."""
    image = approx
    for horizontal, vertical, diagonal in details:
        low = circular_synthesis(image.transpose(-1, -2), horizontal.transpose(-1, -2), lo, hi).transpose(-1, -2)
        high = circular_synthesis(vertical.transpose(-1, -2), diagonal.transpose(-1, -2), lo, hi).transpose(-1, -2)
        image = circular_synthesis(low, high, lo, hi)
    return image


def wavelet_filters(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        wavelet = pywt.Wavelet(name)
    except ValueError:
        raise SettingsError(f"setting 'fft_wave': {name!r} is not a wavelet pywt knows; allowed: haar, db1..db38, "
                            f"coif1..coif17, sym2..sym20, dmey, ...") from None
    return (torch.tensor(wavelet.rec_lo, dtype=torch.float32), torch.tensor(wavelet.rec_hi, dtype=torch.float32))


class FftDrawer(Drawer):
    default_learning_rate = 0.3  # pixray's fft_lrate

    @classmethod
    def resolve_settings(cls, settings) -> None:
        if settings.fft_use == "dwt":
            wavelet_filters(settings.fft_wave)  # names a bad wavelet before anything loads
        if settings.learning_rate is None and settings.fft_lrate is not None:
            settings.learning_rate = settings.fft_lrate

    def __init__(self, settings, device, generator):
        super().__init__(settings, device, generator)
        self.width, self.height = settings.size
        self.use = settings.fft_use
        self.color = (COLOR_SQRT * settings.fft_colors).to(device)
        # On paper (init_noise=paper, its default with the embedded guide) the page starts white and colours
        # are linear: through the sigmoid, flat at white, a white page took colour too slowly and the things
        # came out small and pale; from grey the page stayed murky (MODEL_CARD.md, session 24).
        self.on_paper = settings.init_noise == "paper"
        if self.use == "fft":
            self.frequency_scale = self._frequency_scale()  # fixed for the run: not recomputed per step
        if self.use == "dwt":
            self.lo, self.hi = (f.to(device) for f in wavelet_filters(settings.fft_wave))
            # as many levels as the wavelet's length allows without wrapping onto itself (pywt's rule)
            deepest = pywt.dwt_max_level(min(self.width, self.height), self.lo.numel())
            self.levels = max(1, min(MAX_LEVELS, deepest))
            step = 2 ** self.levels
            self.padded = (math.ceil(self.height / step) * step, math.ceil(self.width / step) * step)
        self.params: list[torch.Tensor] = []

    # --- the parameterisation -----------------------------------------------------------------------

    def _frequency_scale(self) -> torch.Tensor:
        fy = torch.fft.fftfreq(self.height)[:, None]
        fx = torch.fft.rfftfreq(self.width)[None, :]
        frequency = (fx ** 2 + fy ** 2).sqrt().clamp(min=1 / max(self.width, self.height))
        # Lucid's scale: with an orthonormal transform, 1/f^decay / 4 keeps a step of the lowest
        # frequencies to a few units of logit
        return (frequency ** -self.settings.fft_decay / (4 * math.sqrt(self.width * self.height))).to(self.device)

    def _level_scales(self) -> list[float]:
        """Weights of the approximation, then of each level's details, coarsest first. A unit wavelet
        coefficient at level j spreads over 2^j pixels a side, so a weight of 2^(j·fft_decay) gives the
        coarse levels the larger share, as 1/f^decay does for the spectrum; fft_sharp weights the finest
        details (and scales the rest with them)."""
        sharp, decay = self.settings.fft_sharp, self.settings.fft_decay
        details = [sharp * 2 ** ((j - 1) * decay) for j in range(self.levels, 0, -1)]
        return [sharp * 2 ** (self.levels * decay), *details]

    def _decorrelated(self) -> torch.Tensor:
        """The picture before colour mixing and sigmoid: (1,3,H,W)."""
        if self.use == "pixel":
            return self.params[0]
        if self.use == "fft":
            spectrum = torch.view_as_complex(self.params[0]) * self.frequency_scale
            return torch.fft.irfft2(spectrum, s=(self.height, self.width), norm="ortho")
        approx, *bands = self.params
        approx_scale, *scales = self._level_scales()
        details = [(b[:, :, 0] * s, b[:, :, 1] * s, b[:, :, 2] * s) for b, s in zip(bands, scales)]
        return inverse_dwt2(approx * approx_scale, details, self.lo, self.hi)[..., :self.height, :self.width]

    def _from_decorrelated(self, x: torch.Tensor) -> None:
        """Set the parameters so that `_decorrelated()` gives x."""
        if self.use == "pixel":
            self.params = [x]
        elif self.use == "fft":
            spectrum = torch.fft.rfft2(x, norm="ortho") / self.frequency_scale
            self.params = [torch.view_as_real(spectrum).contiguous()]
        else:
            padded = F.pad(x, (0, self.padded[1] - self.width, 0, self.padded[0] - self.height), mode="replicate")
            with warnings.catch_warnings():  # one level on a tiny picture: pywt warns of wrapping, harmless here
                warnings.simplefilter("ignore", UserWarning)
                coeffs = pywt.wavedec2(padded.cpu().double().numpy(), self.settings.fft_wave,
                                       mode="periodization", level=self.levels, axes=(-2, -1))
            approx_scale, *scales = self._level_scales()
            bands = [torch.from_numpy(np.stack(level, 2)).float() / s for level, s in zip(coeffs[1:], scales)]
            self.params = [torch.from_numpy(coeffs[0]).float() / approx_scale, *bands]
        self.params = [p.detach().to(self.device).requires_grad_(True) for p in self.params]

    def _to_rgb(self, x: torch.Tensor) -> torch.Tensor:
        mixed = torch.einsum("ij,bjhw->bihw", self.color, x)
        if not self.on_paper:
            return torch.sigmoid(mixed)
        linear = 0.5 + mixed
        # clamped to valid colours, the gradient passed straight through: a cell pushed past white still
        # answers the perceptor, and the page, at white, stays there
        return linear + (linear.clamp(0, 1) - linear).detach()

    def _from_rgb(self, rgb: torch.Tensor) -> torch.Tensor:
        if self.on_paper:
            mixed = rgb - 0.5
        else:
            mixed = torch.logit(rgb.clamp(0.02, 0.98))
        return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(self.color), mixed)

    # --- the drawer protocol ------------------------------------------------------------------------

    def init_from_image(self, image):
        noise = START_STD * torch.randn(1, 3, self.height, self.width, generator=self.generator)
        start = noise.to(self.device)
        if self.on_paper:
            start = start + self._from_rgb(torch.ones(1, 3, 1, 1, device=self.device))
        if image is not None:
            alpha = self.settings.init_image_alpha / 255
            start = alpha * self._from_rgb(image.float().to(self.device)) + (1 - alpha) * start
        self._from_decorrelated(start)

    def reapply(self, image):
        """Redraw from `image` in place: the optimiser keeps the same tensors."""
        with torch.no_grad():
            old = self.params
            self._from_decorrelated(self._from_rgb(image.float().to(self.device)))
            for param, new in zip(old, self.params):
                param.copy_(new)
            self.params = old

    def param_groups(self):
        return [{"params": self.params, "lr": self.settings.learning_rate}]

    def synth(self):
        return self._to_rgb(self._decorrelated())

    def export(self):
        with torch.no_grad():
            return DrawerOutput(image=tensor_to_pil(self.synth()))
