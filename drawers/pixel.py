"""PixelDraw: a grid of cells, one colour each, upscaled with nearest neighbour to the output size.

Cell colours are free RGB values in [0,1], or, with palette_mode="hard", logits over the palette
whose forward pass is the one-hot choice (every cell is a palette colour at every step) and whose
backward pass is the softmax's (straight-through estimator). palette_mode="gumbel" (as SD-piXL) draws
each cell as a Gumbel-softmax mix of the palette whose temperature anneals towards a single colour;
the export takes each cell's most likely colour. With `transparent`, each cell also has
an alpha value.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pixray.images import tensor_to_pil
from pixray.palettes import load_palette
from pixray.losses.palette import loop_space
from pixray.quantize import stretch_lightness, to_space

from .base import Drawer, DrawerOutput

# Grid width per aspect (pixray's 80x45, 40x40, 40x50); the height follows the output's shape.
DEFAULT_GRID_WIDTH = {"widescreen": 80, "square": 40, "portrait": 40}
SQRT3 = 3 ** 0.5


def cell_index_map(pixel_type: str, cells: tuple[int, int], size: tuple[int, int]) -> tuple[torch.Tensor, tuple]:
    """For each output pixel, the index of its cell in a (rows, cols) lattice: ((H,W) long, (rows, cols)).

    rect: a grid (pixel x shows cell floor((x + 0.5) * cells / size), as nearest-exact scaling);
    rectshift: odd rows shifted half a cell (brick); knit: cells bent into V-shaped stitches; tri: each
    cell split by a diagonal that alternates; diamond: squares turned 45 degrees; hex: pointy-top hexagons one cell wide."""
    (cells_w, cells_h), (width, height) = cells, size
    u = ((torch.arange(width, dtype=torch.float64) + 0.5) * cells_w / width)[None, :].expand(height, width)
    v = ((torch.arange(height, dtype=torch.float64) + 0.5) * cells_h / height)[:, None].expand(height, width)
    row, col = v.floor(), u.floor()
    if pixel_type == "rectshift":
        col = (u + 0.5 * (row % 2)).floor()
    elif pixel_type == "knit":
        # stitches: each cell bent into a V (its top and bottom edges dip half a cell at the middle)
        row = (v - 0.5 * (1 - 2 * (u - col - 0.5).abs())).floor()
    elif pixel_type == "tri":
        fu, fv = u - col, v - row
        upper = torch.where((row + col) % 2 == 0, fu > fv, fu + fv < 1)
        col = 2 * col + upper
    elif pixel_type == "diamond":
        k, m = (u + v).floor(), (u - v).floor()     # the diamond between two pairs of diagonals
        row, col = k - m, ((k + m + 1) / 2).floor()
    elif pixel_type == "hex":
        x, y = u, (torch.arange(height, dtype=torch.float64)[:, None] + 0.5) * cells_w / width  # cell-width units
        y = y.expand(height, width)
        side = 1 / SQRT3                              # hexagon one cell wide: corner radius 1/sqrt(3)
        q, r = (SQRT3 / 3 * x - y / 3) / side, (2 / 3 * y) / side
        cube = torch.stack([q, r, -q - r])
        rounded = cube.round()
        worst = (rounded - cube).abs().argmax(0)      # fix the coordinate that rounded the most
        for axis, (a, b) in enumerate(((1, 2), (0, 2), (0, 1))):
            fix = worst == axis
            rounded[axis] = torch.where(fix, -rounded[a] - rounded[b], rounded[axis])
        row = rounded[1]
        col = rounded[0] + (row - (row % 2)) / 2     # axial → odd-r offset columns
    row, col = row - row.min(), col - col.min()
    rows, cols = int(row.max()) + 1, int(col.max()) + 1
    return (row * cols + col).long(), (rows, cols)


# Start logits at -LOGIT_SCALE * squared distance (in palette_space): the nearest colour wins, by a margin
# Adam can move.
LOGIT_SCALE = 10.0
GUMBEL_START, GUMBEL_END = 1.0, 0.05


class PixelDrawer(Drawer):
    default_learning_rate = 0.1
    supports_hard_palette = True
    supports_transparency = True
    native_grid = True

    @classmethod
    def resolve_settings(cls, settings) -> None:
        """Default grid: pixray's 80 cells across a wide picture (40 otherwise), divided by pixel_scale,
        as whole-number square cells of the output size."""
        width, height = settings.size
        if settings.pixel_size is None:
            across = DEFAULT_GRID_WIDTH["widescreen" if width > height else "square"] / settings.pixel_scale
            cell = max(1, round(width / max(1, round(across))))
            settings.pixel_size = (max(1, width // cell), max(1, height // cell))

    def __init__(self, settings, device, generator):
        super().__init__(settings, device, generator)
        self.width, self.height = settings.size
        self.index_map, (self.cells_h, self.cells_w) = cell_index_map(settings.pixel_type, settings.pixel_size,
                                                                      settings.size)
        self.index_map = self.index_map.to(device)
        hard = settings.palette is not None and settings.palette_mode in ("hard", "gumbel")
        self.gumbel = hard and settings.palette_mode == "gumbel"
        self.steps = 0  # optimiser steps taken (the Gumbel temperature follows them)
        self.palette = load_palette(settings.palette).tensor(device) if hard else None
        depth = len(self.palette) if hard else 3
        self.cells = torch.zeros(1, depth, self.cells_h, self.cells_w, device=device, requires_grad=True)
        self.alpha = (torch.ones(1, 1, self.cells_h, self.cells_w, device=device, requires_grad=True)
                      if settings.transparent else None)

    def _noise(self) -> torch.Tensor:
        shape = (1, 3, self.cells_h, self.cells_w)
        kind = self.settings.init_noise
        if kind in ("pixels", "snow"):  # pixray's snow is per-pixel noise: one draw per cell here
            return torch.rand(shape, generator=self.generator)
        if kind == "paper":  # white, with a little noise so that cells can part ways
            return (1 - 0.1 * torch.rand(shape, generator=self.generator)).clamp(0, 1)
        if kind == "gradient":
            # Blend four random corner colours, then add a little per-cell noise to break symmetry.
            corners = torch.rand(1, 3, 2, 2, generator=self.generator)
            smooth = F.interpolate(corners, size=shape[2:], mode="bilinear", align_corners=True)
            return (smooth + 0.1 * (torch.rand(shape, generator=self.generator) - 0.5)).clamp(0, 1)
        return torch.full(shape, 0.5)

    def init_from_image(self, image):
        start = self._noise()
        if image is not None:
            cell_means = self._cell_means(image.float().cpu())
            alpha = self.settings.init_image_alpha / 255
            start = alpha * cell_means + (1 - alpha) * start
        with torch.no_grad():
            if self.palette is None:
                self.cells.copy_(start.to(self.device))
            else:
                self.cells.copy_(-LOGIT_SCALE * self._palette_distances(start).to(self.device))
            if self.alpha is not None:
                opaque = torch.ones(1, 1, self.cells_h, self.cells_w)
                self.alpha.copy_(opaque if image is not None else torch.rand(opaque.shape, generator=self.generator))

    def _palette_distances(self, colors: torch.Tensor) -> torch.Tensor:
        """(1,3,h,w) colours → (1,K,h,w) squared distances to the palette in `palette_space`, so the
        start picks the colour the export would pick."""
        space = loop_space(self.settings)
        cells = to_space(colors[0].permute(1, 2, 0).double().numpy(), space)           # (h,w,3)
        palette = to_space(self.palette.cpu().double().numpy(), space)                 # (K,3)
        if space == "lightness":
            cells = stretch_lightness(cells, palette)
        distances = ((cells[None] - palette[:, None, None]) ** 2).sum(-1)              # (K,h,w)
        return torch.from_numpy(distances).float()[None]

    def _cell_means(self, image: torch.Tensor) -> torch.Tensor:
        """Average of the image over each cell's pixels (cells with no pixel keep the noise's value)."""
        count = self.cells_h * self.cells_w
        index = self.index_map.cpu().reshape(-1)
        sums = torch.zeros(3, count).index_add_(1, index, image[0].reshape(3, -1))
        hits = torch.zeros(count).index_add_(0, index, torch.ones(index.shape[0]))
        means = sums / hits.clamp_min(1)
        return torch.where(hits > 0, means, 0.5).view(1, 3, self.cells_h, self.cells_w)

    def param_groups(self):
        params = [self.cells] + ([self.alpha] if self.alpha is not None else [])
        return [{"params": params, "lr": self.settings.learning_rate}]

    def temperature(self) -> float:
        """Gumbel-softmax temperature: GUMBEL_START → GUMBEL_END geometrically over the run."""
        progress = min(1.0, self.steps / max(1, self.settings.iterations))
        return GUMBEL_START * (GUMBEL_END / GUMBEL_START) ** progress

    def cell_colors(self, final: bool = False) -> torch.Tensor:
        """(1,3,h,w) RGB per cell; in hard mode exactly palette colours (straight-through gradients); in
        gumbel mode a noisy soft mix while optimising and the most likely colour when `final`."""
        if self.palette is None:
            return self.cells
        if self.gumbel and not final:
            uniform = torch.rand(self.cells.shape, generator=self.generator).clamp(1e-9, 1 - 1e-9)
            noise = -torch.log(-torch.log(uniform)).to(self.device)
            mix = ((self.cells + noise) / self.temperature()).softmax(1)
            return torch.einsum("bkhw,kc->bchw", mix, self.palette)
        soft = self.cells.softmax(1)
        hard = F.one_hot(soft.argmax(1), len(self.palette)).permute(0, 3, 1, 2).to(soft.dtype)
        choice = hard + (soft - soft.detach())  # exactly one-hot forward: (soft - soft) is exactly 0
        return torch.einsum("bkhw,kc->bchw", choice, self.palette)

    def cell_pixels(self, final: bool = False) -> torch.Tensor:
        colors = self.cell_colors(final)
        return colors if self.alpha is None else torch.cat([colors, self.alpha], 1)

    def synth(self, final: bool = False):
        cells = self.cell_pixels(final)
        return cells.flatten(2)[:, :, self.index_map]

    def clamp(self):
        self.steps += 1
        with torch.no_grad():
            if self.palette is None:
                self.cells.clamp_(0, 1)
            if self.alpha is not None:
                self.alpha.clamp_(0, 1)

    def export(self):
        with torch.no_grad():
            return DrawerOutput(image=tensor_to_pil(self.synth(final=True)),
                                sprite=tensor_to_pil(self.cell_pixels(final=True)),
                                cell_map=self.index_map.cpu().numpy())
