"""Pixel-art measurements of a picture: how many colours, stray pixels, half-transparent pixels and
jaggies it has, and (for an upscaled picture) the size and offset of its pixel grid.

`measure(image)` finds the grid first and measures the sprite under it, so a 32x32 sprite and its
12x upscale give the same numbers. `pixray lint IMAGE` prints them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

from .image_files import has_alpha
from .quantize import srgb_to_oklab


# A grid is believed when its best offset explains the picture much better than a typical offset of the
# same period (a native sprite or a photo has no offset that matters) and its flat cells leave little of
# the picture's variation unexplained. Measured on blurred and JPEG'd upscales of the prior's bank sprites against
# native and resized ones (benchmarks/pixel_quality.py): natives leave 0.017 and more at offset ratios
# down to 0.3 (down to 0.08 only for 2-pixel periods, which have just two offsets to compare).
MAX_OFFSET_RATIO = 0.6
MAX_ERROR = 0.015
# A very sharp offset (many-colour sprites, where blur leaves more error at every border) is enough.
SHARP_OFFSET_RATIO = 0.25
MAX_SHARP_ERROR = 0.05
# Candidates are the periods whose error is close to the smallest (multiples of the cell mix neighbouring
# cells and do far worse); of those, the cell is the one whose offset matters most (a divisor of the cell
# fits blur as well but is less particular about where it starts), the largest on a tie.
ERROR_FACTOR, ERROR_MARGIN = 4.0, 0.02
RATIO_TIE = 0.02
MIN_CELLS_PER_SIDE = 4

# What `pixray lint` warns about (the targets of pixel art, not of paintings).
MAX_COLORS = 32
MAX_ORPHAN_RATIO = 0.15
MAX_SPECKLE_RATIO = 0.02
# An orphan this far (OKLab) from every 4-neighbour stands out: a speck of another colour, not the next
# shade of a gradient (neighbouring shades of a 16-colour sprite are ~0.03-0.08 apart; red on yellow 0.3).
SPECKLE_CONTRAST = 0.12


@dataclass(frozen=True)
class Grid:
    cell: int          # pixels per cell side (1: no grid found, the picture is its own sprite)
    offset: tuple[int, int]  # where the first whole cell starts, (x, y)
    offset_ratio: float = 1.0  # error at the best offset / at a typical one (small: the grid is real)
    error: float = 0.0  # what the flat cells leave unexplained, as a share of all variation


@dataclass
class Metrics:
    width: int                 # of the measured sprite, in cells
    height: int
    cell: int                  # detected cell size of the picture given
    offset: tuple[int, int]
    colors: int                # distinct colours of the visible pixels
    orphan_ratio: float        # visible cells with no same-coloured 4-neighbour
    speckle_ratio: float       # orphans that stand out from every 4-neighbour (stipple, specks)
    partial_alpha: int         # cells with 0 < alpha < 255
    jaggies: int               # L-shaped corner pixels on 1-pixel lines ("doubles")
    mixed_cells: float | None  # runs of one colour whose length is not a whole number of cells (None: too
                               # many colours to tell runs apart, e.g. a photo or a JPEG)

    def warnings(self) -> list[str]:
        found = []
        if self.colors > MAX_COLORS:
            found.append(f"{self.colors} colours (pixel art uses at most {MAX_COLORS}; try colors=16 or a palette)")
        if self.orphan_ratio > MAX_ORPHAN_RATIO:
            found.append(f"{self.orphan_ratio:.0%} of the cells are orphans, with no same-coloured neighbour "
                         f"(at most {MAX_ORPHAN_RATIO:.0%}; try cleanup)")
        if self.speckle_ratio > MAX_SPECKLE_RATIO:
            found.append(f"{self.speckle_ratio:.0%} of the cells are specks of a colour none of their neighbours "
                         f"is near (at most {MAX_SPECKLE_RATIO:.0%}; stipple or noise)")
        if self.partial_alpha:
            found.append(f"{self.partial_alpha} half-transparent pixels (alpha between 0 and 255)")
        if self.mixed_cells:
            found.append(f"{self.mixed_cells:.0%} of the colour runs are not whole cells of {self.cell} pixels "
                         f"(mixed cell sizes)")
        return found

    def to_dict(self) -> dict:
        values = asdict(self)
        values["offset"] = list(self.offset)
        return values


def _rgba(image: Image.Image) -> np.ndarray:
    """(H,W,4) uint8; images without alpha are opaque."""
    if has_alpha(image):
        return np.asarray(image.convert("RGBA"))
    return np.dstack([np.asarray(image.convert("RGB")), np.full(image.size[::-1], 255, np.uint8)])


class _RunErrors:
    """Squared error of approximating every row of `data` (H,W,C) by constant runs of `period` pixels
    starting at `offset`; cumulative sums make each (period, offsets) one gather."""

    def __init__(self, data: np.ndarray):
        zeros = np.zeros((data.shape[0], 1, data.shape[2]))
        self.width = data.shape[1]
        self.first = np.concatenate([zeros, data.cumsum(1)], 1)
        self.second = np.concatenate([zeros, (data ** 2).cumsum(1)], 1).sum(2)
        # edge energy between pixel i and i+1, summed down the rows: cell borders sit on its peaks
        self.edges = np.sqrt(((data[:, 1:] - data[:, :-1]) ** 2).sum(2)).sum(0)

    def likely_offsets(self, period: int, count: int = 2) -> np.ndarray:
        """The offsets whose borders carry the most edge energy (the only ones worth an exact look)."""
        energy = np.bincount((np.arange(len(self.edges)) + 1) % period, self.edges, minlength=period)
        return np.argsort(-energy, kind="stable")[:count]

    def __call__(self, period: int, offsets: np.ndarray) -> np.ndarray:
        """Errors for each offset: runs start at 0, offset, offset + period, ... (a run of length 0 where
        two starts coincide adds nothing)."""
        steps = -(-self.width // period) + 1
        starts = np.asarray(offsets)[:, None] + period * np.arange(steps)[None, :]
        bounds = np.clip(np.concatenate([np.zeros((len(offsets), 1), int), starts,
                                         np.full((len(offsets), 1), self.width)], 1), 0, self.width)
        counts = np.diff(bounds, axis=1)                                        # (offsets, runs)
        sums = self.first[:, bounds[:, 1:]] - self.first[:, bounds[:, :-1]]     # (H, offsets, runs, C)
        squares = self.second[:, bounds[:, 1:]] - self.second[:, bounds[:, :-1]]
        spread = squares - (sums ** 2).sum(3) / np.maximum(counts, 1)
        return spread.sum((0, 2))

    def best_and_typical(self, period: int) -> tuple[float, int, float]:
        """(smallest error, its offset, median error over evenly spread offsets)."""
        spread = np.unique(np.round(np.arange(4) * period / 4).astype(int) % period)
        likely = self.likely_offsets(period)
        offsets = np.unique(np.concatenate([spread, likely]))
        errors = self(period, offsets)
        typical = float(np.median(errors[np.isin(offsets, spread)]))
        return float(errors.min()), int(offsets[errors.argmin()]), typical


def detect_grid(image: Image.Image | np.ndarray) -> Grid:
    """The pixel grid of an upscaled picture (square cells of a whole number of pixels, any offset):
    among the periods whose cells are (nearly) flat, the one whose offset matters most, if the flat
    cells explain the picture. Works through mild blur and JPEG; Grid(1, ...) when there is no grid."""
    rgba = image if isinstance(image, np.ndarray) else _rgba(image)
    height, width = rgba.shape[:2]
    limit = min(width, height) // MIN_CELLS_PER_SIDE
    channels = 4 if (rgba[..., 3] != 255).any() else 3
    data = rgba[..., :channels] / 255
    # All the variation there is along each axis (rows, then columns, against their own means).
    total = ((data - data.mean(1, keepdims=True)) ** 2).sum() + ((data - data.mean(0, keepdims=True)) ** 2).sum()
    if limit < 2 or total == 0:
        return Grid(1, (0, 0))
    rows, columns = _RunErrors(data), _RunErrors(data.transpose(1, 0, 2))
    found = {}
    for period in range(2, limit + 1):
        (across, x, typical_x), (down, y, typical_y) = rows.best_and_typical(period), columns.best_and_typical(period)
        error = (across + down) / total
        found[period] = (error, (x, y), error / max((typical_x + typical_y) / total, 1e-12))
    floor = min(error for error, _, _ in found.values())
    near = max(ERROR_FACTOR * floor, floor + ERROR_MARGIN)
    candidates = {p: ratio for p, (error, _, ratio) in found.items() if error <= near}
    sharpest = min(candidates.values())
    period = max(p for p, ratio in candidates.items() if ratio <= sharpest + RATIO_TIE)
    error, offset, ratio = found[period]
    believed = (ratio <= MAX_OFFSET_RATIO and error <= MAX_ERROR) or (
        period > 2 and ratio <= SHARP_OFFSET_RATIO and error <= MAX_SHARP_ERROR)
    if not believed:
        return Grid(1, (0, 0), float(ratio), float(error))
    return Grid(period, offset, float(ratio), float(error))


def cell_bounds(length: int, cell: int, offset: int) -> list[tuple[int, int]]:
    """[start, end) of each cell along one axis; a partial cell at either end is kept when it is at least
    half a cell (an upscale cropped by a few pixels)."""
    bounds = [(s, min(s + cell, length)) for s in range(offset, length, cell)]
    if offset >= (cell + 1) // 2:
        bounds.insert(0, (0, offset))
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < (cell + 1) // 2:
        bounds.pop()
    return bounds or [(0, length)]


def downsample(rgba: np.ndarray, grid: Grid) -> np.ndarray:
    """One RGBA pixel per cell: the per-channel median of the cell's inside (a border pixel is left
    out of cells of 4+ pixels, where blur and JPEG ringing live)."""
    if grid.cell == 1:
        return rgba
    xs = cell_bounds(rgba.shape[1], grid.cell, grid.offset[0])
    ys = cell_bounds(rgba.shape[0], grid.cell, grid.offset[1])
    out = np.zeros((len(ys), len(xs), 4), np.uint8)
    for j, (y0, y1) in enumerate(ys):
        for i, (x0, x1) in enumerate(xs):
            inset = 1 if min(x1 - x0, y1 - y0) >= 4 else 0
            block = rgba[y0 + inset:y1 - inset, x0 + inset:x1 - inset].reshape(-1, 4)
            out[j, i] = np.median(block, axis=0).round()
    return out


def _labels(rgba: np.ndarray) -> np.ndarray:
    """One int per pixel: equal for equal visible colours; every fully transparent pixel is -1."""
    packed = (rgba[..., 0].astype(np.int64) << 24) | (rgba[..., 1].astype(np.int64) << 16) | \
             (rgba[..., 2].astype(np.int64) << 8) | rgba[..., 3]
    return np.where(rgba[..., 3] == 0, -1, packed)


def orphan_ratio(labels: np.ndarray) -> float:
    """Share of visible cells none of whose 4-neighbours has the same colour."""
    padded = np.pad(labels, 1, constant_values=-2)  # outside the picture matches nothing
    centre = padded[1:-1, 1:-1]
    same = np.zeros(labels.shape, bool)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        same |= padded[dy:dy + labels.shape[0], dx:dx + labels.shape[1]] == centre
    visible = labels != -1
    return float((~same & visible).sum() / max(visible.sum(), 1))


def speckle_ratio(rgba: np.ndarray) -> float:
    """Share of visible cells that differ by at least SPECKLE_CONTRAST (OKLab) from each 4-neighbour, or
    whose neighbours are all clear: the specks and stipple a person sees, where orphans of a soft gradient
    (the next shade along) are not."""
    lab = srgb_to_oklab(rgba[..., :3].astype(np.float64) / 255)
    visible = rgba[..., 3] > 0
    h, w = visible.shape
    lab_pad = np.pad(lab, ((1, 1), (1, 1), (0, 0)))
    visible_pad = np.pad(visible, 1)
    near = np.zeros((h, w), bool)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        distance = np.sqrt(((lab_pad[dy:dy + h, dx:dx + w] - lab) ** 2).sum(-1))
        near |= visible_pad[dy:dy + h, dx:dx + w] & (distance < SPECKLE_CONTRAST)
    return float((visible & ~near).sum() / max(visible.sum(), 1))


def count_jaggies(labels: np.ndarray) -> int:
    """Pixels that are the corner of an 'L' step on a 1-pixel line ("doubles"): exactly two same-coloured
    4-neighbours, one vertical and one horizontal, the pixel between them (diagonally) of another colour,
    and the line not going straight on from both (that is a drawn right angle, like a box corner).
    Pixel artists remove doubles so a diagonal reads as clean 1-1 steps."""
    padded = np.pad(labels, 2, constant_values=-2)
    h, w = labels.shape
    c = padded[2:-2, 2:-2]

    def at(dy, dx):
        return padded[2 + dy:2 + dy + h, 2 + dx:2 + dx + w] == c

    four = at(-1, 0).astype(int) + at(1, 0) + at(0, -1) + at(0, 1)
    corner = np.zeros((h, w), bool)
    for dy in (-1, 1):
        for dx in (-1, 1):
            right_angle = at(2 * dy, 0) & at(0, 2 * dx)
            corner |= at(dy, 0) & at(0, dx) & ~at(dy, dx) & ~right_angle
    return int((corner & (four == 2) & (labels != -1)).sum())


def mixed_cell_ratio(labels: np.ndarray, cell: int, max_colors: int = 256) -> float | None:
    """Share of horizontal and vertical runs of one colour whose length is not a multiple of `cell`
    (edge runs excluded: a crop may cut them). None when the picture has too many colours for runs to
    mean anything."""
    if len(np.unique(labels)) > max_colors:
        return None
    if cell == 1:
        return 0.0
    bad = total = 0
    for lines in (labels, labels.T):
        for line in lines:
            change = np.flatnonzero(np.diff(line)) + 1
            lengths = np.diff(change)  # runs that start and end inside the line
            bad += int((lengths % cell != 0).sum())
            total += len(lengths)
    return bad / total if total else 0.0


def measure(image: Image.Image) -> Metrics:
    """Measure a sprite or an upscaled picture (its grid is found first)."""
    rgba = _rgba(image)
    grid = detect_grid(rgba)
    sprite = downsample(rgba, grid)
    labels = _labels(sprite)
    visible = sprite[..., 3] > 0
    colors = len(np.unique(labels[visible])) if visible.any() else 0
    return Metrics(width=sprite.shape[1], height=sprite.shape[0], cell=grid.cell, offset=grid.offset,
                   colors=colors, orphan_ratio=round(orphan_ratio(labels), 4),
                   speckle_ratio=round(speckle_ratio(sprite), 4),
                   partial_alpha=int(((sprite[..., 3] > 0) & (sprite[..., 3] < 255)).sum()),
                   jaggies=count_jaggies(labels), mixed_cells=_rounded(mixed_cell_ratio(_labels(rgba), grid.cell)))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def report(path: str, metrics: Metrics) -> str:
    """The few lines `pixray lint` prints."""
    grid = (f"{metrics.cell}-pixel cells at offset {metrics.offset[0]},{metrics.offset[1]}"
            if metrics.cell > 1 else "no upscaling found (one pixel per cell)")
    lines = [f"{path}: {metrics.width}x{metrics.height} cells ({grid})",
             f"  colours {metrics.colors}, orphans {metrics.orphan_ratio:.1%}, specks {metrics.speckle_ratio:.1%}, "
             f"half-transparent {metrics.partial_alpha}, jaggies {metrics.jaggies}"
             + ("" if metrics.mixed_cells is None else f", mixed cells {metrics.mixed_cells:.1%}")]
    warnings = metrics.warnings()
    lines += [f"  warning: {w}" for w in warnings] or ["  ok: reads as pixel art"]
    return "\n".join(lines)
