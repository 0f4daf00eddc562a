"""The finishing pass on a native sprite of palette indices: stray pixels, background, outline.

Works on (H,W) palette indices plus an opaque mask, so every result is still exact palette colours and
the upscaled picture stays a nearest-neighbour enlargement of the sprite."""

from __future__ import annotations

from collections import deque

import numpy as np

from .quantize import srgb_to_oklab

TRANSPARENT = -1
# A lone pixel this far (OKLab) from a uniform surrounding is a detail someone meant (an eye, a star);
# nearer ones are fringe and noise. Black on yellow is ~0.8, a neighbouring shade ~0.1.
DETAIL_CONTRAST = 0.25
# Neighbours that must agree for a lone pixel's surrounding to count as uniform.
UNIFORM_NEIGHBOURS = 6
PASSES = 3
# A speck lies in stipple when at least this many other specks are within two cells of it: the loop
# mixing two palette colours cell by cell where it wanted one between them (palette_mode hard or gumbel,
# or a soft palette pulled in late). An eye, a star or a button has few such neighbours.
STIPPLE_NEIGHBOURS = 2

_EIGHT = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


def _labels(indices: np.ndarray, opaque: np.ndarray | None) -> np.ndarray:
    labels = indices.astype(np.int64)
    return labels if opaque is None else np.where(opaque, labels, TRANSPARENT)


def _neighbours(labels: np.ndarray) -> np.ndarray:
    """(8,H,W) labels of the 8 neighbours; outside the picture is -2 (matches nothing)."""
    padded = np.pad(labels, 1, constant_values=-2)
    h, w = labels.shape
    return np.stack([padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy, dx in _EIGHT])


def remove_strays(indices: np.ndarray, opaque: np.ndarray | None, palette: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """Recolour pixels that share their colour with none of their 8 neighbours, with the colour most
    of the neighbours have. Lines one pixel wide (straight or diagonal) have same-coloured neighbours and
    stay; a lone pixel that stands out clearly from a uniform surrounding (an eye) stays too."""
    lab = srgb_to_oklab(np.asarray(palette, dtype=np.float64) / 255)
    labels = _labels(indices, opaque)
    for _ in range(PASSES):
        around = _neighbours(labels)
        lone = ~(around == labels[None]).any(0)
        if not lone.any():
            break
        changed = False
        for y, x in zip(*np.nonzero(lone)):
            values = around[:, y, x]
            values = values[values != -2]
            if not len(values):
                continue  # a 1x1 sprite: nothing to compare with
            here = labels[y, x]
            target, agreeing = _commonest(values, here, lab)
            if agreeing >= min(UNIFORM_NEIGHBOURS, len(values)) and _stands_out(here, target, lab):
                continue  # a deliberate one-pixel detail
            labels[y, x] = target
            changed = True
        if not changed:
            break
    return _split(labels, indices, opaque)


def _at(labels: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """labels shifted: each cell sees its neighbour at (dy, dx); outside the picture is -2."""
    reach = max(abs(dy), abs(dx))
    padded = np.pad(labels, reach, constant_values=-2)
    h, w = labels.shape
    return padded[reach + dy:reach + dy + h, reach + dx:reach + dx + w]


def remove_stipple(indices: np.ndarray, opaque: np.ndarray | None, palette: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """Flatten stipple: a speck (no same-coloured 4-neighbour, and not on a diagonal line of three or more
    cells of its colour) with at least STIPPLE_NEIGHBOURS other specks within two cells, or within two
    cells of such a speck, takes the commonest colour of its 4-neighbours (ties: the one closest to it).
    Diagonal lines and lone details (an eye, a pair of eyes) stay; every speck is judged on the picture
    as it was, in one pass."""
    lab = srgb_to_oklab(np.asarray(palette, dtype=np.float64) / 255)
    labels = _labels(indices, opaque)
    h, w = labels.shape

    def same(dy, dx):
        return _at(labels, dy, dx) == labels

    orphan = ~(same(-1, 0) | same(1, 0) | same(0, -1) | same(0, 1))
    on_line = np.zeros(labels.shape, bool)
    for dy, dx in ((1, 1), (1, -1)):
        ahead, behind = same(dy, dx), same(-dy, -dx)
        on_line |= (ahead & behind) | (ahead & same(2 * dy, 2 * dx)) | (behind & same(-2 * dy, -2 * dx))
    speck = orphan & ~on_line

    def within_two(cells):
        padded = np.pad(cells.astype(np.int64), 2)
        return sum(padded[2 + dy:2 + dy + h, 2 + dx:2 + dx + w] for dy in range(-2, 3) for dx in range(-2, 3))

    core = speck & (within_two(speck) - speck >= STIPPLE_NEIGHBOURS)
    stipple = speck & (within_two(core) > 0)   # and the specks at its edge
    around = np.stack([_at(labels, dy, dx) for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1))])
    result = labels.copy()
    for y, x in zip(*np.nonzero(stipple)):
        values = around[:, y, x]
        result[y, x] = _commonest(values[values != -2], labels[y, x], lab)[0]
    return _split(result, indices, opaque)


def _commonest(values: np.ndarray, here: int, lab: np.ndarray) -> tuple[int, int]:
    """The commonest of the neighbours' labels `values` and how many have it; ties go to the colour
    closest to the pixel's own (`here`)."""
    choices, counts = np.unique(values, return_counts=True)
    best = choices[counts == counts.max()]
    if len(best) > 1 and here != TRANSPARENT:
        visible = best[best != TRANSPARENT]
        if len(visible):
            best = visible[np.argsort(((lab[visible] - lab[here]) ** 2).sum(1), kind="stable")]
    return int(best[0]), int(counts.max())


def _stands_out(here: int, around: int, lab: np.ndarray) -> bool:
    if here == TRANSPARENT or around == TRANSPARENT:
        return False  # a pixel floating in the air, or a pin-hole: specks either way
    return float(np.sqrt(((lab[here] - lab[around]) ** 2).sum())) >= DETAIL_CONTRAST


def _split(labels: np.ndarray, indices: np.ndarray, opaque: np.ndarray | None):
    if opaque is None:
        return labels, None
    visible = labels != TRANSPARENT
    return np.where(visible, labels, indices), visible


def background_mask(indices: np.ndarray, opaque: np.ndarray | None) -> np.ndarray:
    """Cells of the commonest border colour that the border reaches through that colour (4-connected):
    the backdrop a sprite was drawn on. Holes of the same colour inside the subject are kept."""
    labels = _labels(indices, opaque)
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    border = border[border != TRANSPARENT]
    mask = np.zeros(labels.shape, bool)
    if not len(border):
        return mask
    values, counts = np.unique(border, return_counts=True)
    colour = values[counts.argmax()]
    h, w = labels.shape
    queue = deque((y, x) for y in range(h) for x in range(w)
                  if (y in (0, h - 1) or x in (0, w - 1)) and labels[y, x] == colour)
    for y, x in queue:
        mask[y, x] = True
    while queue:
        y, x = queue.popleft()
        for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= ny < h and 0 <= nx < w and not mask[ny, nx] and labels[ny, nx] == colour:
                mask[ny, nx] = True
                queue.append((ny, nx))
    return mask


def outline_mask(opaque: np.ndarray) -> np.ndarray:
    """Transparent cells that touch an opaque one (4-connected): a 1-pixel outline around the sprite."""
    padded = np.pad(opaque, 1)
    h, w = opaque.shape
    touches = np.zeros_like(opaque)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        touches |= padded[dy:dy + h, dx:dx + w]
    return touches & ~opaque


def darkest(palette: np.ndarray, used: np.ndarray) -> int:
    """Index of the darkest (OKLab lightness) palette colour among `used`."""
    lightness = srgb_to_oklab(np.asarray(palette, dtype=np.float64)[used] / 255)[:, 0]
    return int(used[int(lightness.argmin())])
