"""Choosing a few colours for a picture: weighted k-means in OKLab (distances there follow what people
see), and merging colours that only noise tells apart (JPEG, blur). Deterministic: no random start."""

from __future__ import annotations

import numpy as np

from .quantize import nearest, srgb_to_oklab

# Inverses of the two OKLab matrices in quantize.srgb_to_oklab (rows map inputs to outputs there too).
_LMS_TO_LAB = np.array([[0.2104542553, 1.9779984951, 0.0259040371],
                        [0.7936177850, -2.4285922050, 0.7827717662],
                        [-0.0040720468, 0.4505937099, -0.8086757660]])
_RGB_TO_LMS = np.array([[0.4122214708, 0.2119034982, 0.0883024619],
                        [0.5363325363, 0.6806995451, 0.2817188376],
                        [0.0514459929, 0.1073969566, 0.6299787005]])


def oklab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """OKLab (...,3) → sRGB in [0,1] (clipped: k-means centres can leave the gamut slightly)."""
    lms = np.asarray(lab, dtype=np.float64) @ np.linalg.inv(_LMS_TO_LAB)
    linear = (lms ** 3) @ np.linalg.inv(_RGB_TO_LMS)
    linear = np.clip(linear, 0, 1)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def _to_uint8(lab: np.ndarray) -> np.ndarray:
    return np.clip(np.round(oklab_to_srgb(lab) * 255), 0, 255).astype(np.uint8)


def unique_colors(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,3) uint8 → (distinct colours, how often each occurs), the most frequent first (ties by colour)."""
    colors, counts = np.unique(np.asarray(pixels, dtype=np.uint8).reshape(-1, 3), axis=0, return_counts=True)
    order = np.lexsort((colors[:, 2], colors[:, 1], colors[:, 0], -counts))
    return colors[order], counts[order]


def fit_palette(pixels: np.ndarray, count: int, iterations: int = 30) -> np.ndarray:
    """At most `count` colours (K,3 uint8) that represent `pixels` (N,3 uint8): the picture's own colours
    if it has no more, else weighted k-means centres in OKLab, the most used colour first."""
    colors, weights = unique_colors(pixels)
    if len(colors) <= count:
        return colors
    lab = srgb_to_oklab(colors / 255)
    weights = weights.astype(np.float64)
    # Deterministic k-means++: each next centre is the colour with the most weight times squared distance,
    # so a small, distinct detail (an eye) gets a colour before a third shade of the background does.
    centres = [lab[0]]
    distance = ((lab - lab[0]) ** 2).sum(1)
    for _ in range(count - 1):
        pick = int(np.argmax(weights * distance))
        centres.append(lab[pick])
        distance = np.minimum(distance, ((lab - lab[pick]) ** 2).sum(1))
    centres = np.array(centres)
    for _ in range(iterations):
        label = nearest(lab, centres)
        totals = np.zeros_like(centres)
        np.add.at(totals, label, lab * weights[:, None])
        mass = np.bincount(label, weights, minlength=len(centres))
        moved = np.where(mass[:, None] > 0, totals / np.maximum(mass, 1e-12)[:, None], centres)
        if np.allclose(moved, centres, atol=1e-7):
            break
        centres = moved
    label = nearest(lab, centres)
    mass = np.bincount(label, weights, minlength=len(centres))
    order = np.argsort(-mass, kind="stable")
    return _distinct(_to_uint8(centres[order[mass[order] > 0]]))


def _distinct(rgb: np.ndarray) -> np.ndarray:
    """Rows of `rgb` without repeats (two centres can round to one 8-bit colour), first occurrence kept."""
    _, first = np.unique(rgb, axis=0, return_index=True)
    return rgb[np.sort(first)]


def merge_close(pixels: np.ndarray, tolerance: float = 0.04) -> np.ndarray:
    """The colours of `pixels` (N,3 uint8) with near-duplicates merged (OKLab distance below `tolerance`):
    each group becomes the weighted mean of its members, the most used group first."""
    colors, weights = unique_colors(pixels)
    lab = srgb_to_oklab(colors / 255)
    centres: list[np.ndarray] = []
    members: list[list[int]] = []
    for i, colour in enumerate(lab):  # most frequent first: a group is named after its commonest colour
        if centres:
            distances = ((np.array(centres) - colour) ** 2).sum(1)
            best = int(distances.argmin())
            if distances[best] < tolerance ** 2:
                members[best].append(i)
                continue
        centres.append(colour)
        members.append([i])
    merged = [np.average(lab[group], axis=0, weights=weights[group]) for group in members]
    mass = np.array([weights[group].sum() for group in members])
    return _distinct(_to_uint8(np.array(merged)[np.argsort(-mass, kind="stable")]))
