"""A differentiable stroke rasteriser in plain PyTorch (no diffvg), and SVG export.

Strokes are chains of cubic Bézier segments with a width and an RGBA colour. Each stroke is
flattened to a polyline and rendered only inside a square patch around it, with a one-pixel linear
anti-aliasing ramp on the distance to the polyline (round caps and joins, as SVG's round
linecap/linejoin). Strokes are composited exactly "over" in order: each stroke is dimmed by the
transmittance of the strokes drawn after it, from cumulative sums of log(1 - alpha).
Gradients reach control points, widths and colours.
"""

from __future__ import annotations

import math

import torch

SAMPLES_PER_SEGMENT = 8


def bezier_polyline(control: torch.Tensor, samples: int = SAMPLES_PER_SEGMENT) -> torch.Tensor:
    """(S, 3k+1, 2) control points of k joined cubic segments → (S, k*samples+1, 2) points on the curve."""
    strokes, count, _ = control.shape
    segments = (count - 1) // 3
    t = torch.linspace(0, 1, samples + 1, device=control.device, dtype=control.dtype)[:-1]
    basis = torch.stack([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3], 1)  # (samples, 4)
    index = torch.arange(segments, device=control.device)[:, None] * 3 + torch.arange(4, device=control.device)
    quads = control[:, index]                                                                  # (S, k, 4, 2)
    points = torch.einsum("tj,skjd->sktd", basis, quads).reshape(strokes, segments * samples, 2)
    return torch.cat([points, control[:, -1:]], 1)


def patch_size(extent: float, max_width: float) -> int:
    """Side of the square patch that holds any stroke of the given extent and width (pixels)."""
    return int(math.ceil(extent + max_width + 3))


class PolylineDistance(torch.autograd.Function):
    """Distance from pixels to polylines, (S,N,2) points and (S,P,2) pixels → (S,P).

    The forward pass keeps only the nearest segment and the position on it; the backward pass uses
    them directly (the minimum's gradient is that of its argmin, with the foot point held fixed), so
    memory and backward time are O(S·P) instead of O(S·segments·P)."""

    @staticmethod
    def forward(ctx, points, pixels):
        strokes, pixel_count = pixels.shape[:2]
        best = torch.full((strokes, pixel_count), float("inf"), dtype=points.dtype, device=points.device)
        best_segment = torch.zeros(strokes, pixel_count, dtype=torch.long, device=points.device)
        best_t = torch.zeros_like(best)
        px, py = pixels[..., 0], pixels[..., 1]
        for m in range(points.shape[1] - 1):
            ax, ay = points[:, m, 0:1], points[:, m, 1:2]
            abx, aby = points[:, m + 1, 0:1] - ax, points[:, m + 1, 1:2] - ay
            apx, apy = px - ax, py - ay
            t = ((apx * abx + apy * aby) / (abx * abx + aby * aby).clamp_min(1e-12)).clamp_(0, 1)
            d2 = (apx - t * abx).square_() + (apy - t * aby).square_()
            closer = d2 < best
            best = torch.where(closer, d2, best)
            best_t = torch.where(closer, t, best_t)
            best_segment.masked_fill_(closer, m)
        distance = (best + 1e-12).sqrt()
        ctx.save_for_backward(points, pixels, best_segment, best_t, distance)
        return distance

    @staticmethod
    def backward(ctx, grad):
        points, pixels, segment, t, distance = ctx.saved_tensors
        index = segment[..., None].expand(-1, -1, 2)
        a, b = points.gather(1, index), points.gather(1, index + 1)
        t = t[..., None]
        toward_pixel = (pixels - (a + t * (b - a))) / distance[..., None]   # d distance / d pixel
        pull = grad[..., None] * toward_pixel
        grad_points = torch.zeros_like(points)
        grad_points.scatter_add_(1, index, -(1 - t) * pull)
        grad_points.scatter_add_(1, index + 1, -t * pull)
        return grad_points, None


def _coverage(points: torch.Tensor, widths: torch.Tensor, origins: torch.Tensor, patch: int) -> torch.Tensor:
    """(S,N,2) polylines, (S,) widths, (S,2) integer patch origins → (S, patch²) coverage in [0,1]."""
    offsets = torch.arange(patch, device=points.device, dtype=points.dtype) + 0.5
    ys, xs = torch.meshgrid(offsets, offsets, indexing="ij")
    pixels = origins[:, None, :] + torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)[None]  # (S,P,2) x,y
    distance = PolylineDistance.apply(points, pixels)
    return (widths[:, None] / 2 + 0.5 - distance).clamp(0, 1)


def rasterize(control: torch.Tensor, widths: torch.Tensor, colors: torch.Tensor, size: tuple[int, int],
              background: torch.Tensor, patch: int) -> torch.Tensor:
    """Render strokes over a background.

    control (S, 3k+1, 2) in pixels (x, y); widths (S,) in pixels; colors (S,4) RGBA in [0,1];
    size (W,H); background (3,); patch: side of each stroke's square patch (see `patch_size`).
    Returns (1,3,H,W)."""
    width, height = size
    points = bezier_polyline(control)
    centre = (points.amin(1) + points.amax(1)).detach() / 2
    origins = torch.floor(centre - patch / 2)
    alpha = _coverage(points, widths, origins, patch) * colors[:, 3:4]                        # (S,P)

    # Flat canvas index of every patch pixel; pixels off the canvas go to one spare slot at the end.
    offsets = torch.arange(patch, device=control.device)
    px = origins[:, 0:1].long() + offsets.repeat(patch)[None]
    py = origins[:, 1:2].long() + offsets.repeat_interleave(patch)[None]
    inside = (px >= 0) & (px < width) & (py >= 0) & (py < height)
    spare = width * height
    index = torch.where(inside, py * width + px, torch.full_like(px, spare)).reshape(-1)

    # How much of each stroke shows is its alpha times exp(Σ log(1-α) of the strokes drawn later over
    # the same pixel). Only the stroke-patch entries are summed, not a canvas x strokes table: sorted by
    # pixel (a stable sort keeps drawing order within a pixel), "later in this pixel" is the pixel's
    # running total minus the running sum so far: a difference of long sums, so summed in float64
    # (float32 on mps, which has no float64).
    wide = torch.float32 if control.device.type == "mps" else torch.float64
    order = torch.argsort(index, stable=True)
    log_clear = torch.log1p(-alpha * (1 - 1e-4)).reshape(-1).to(wide)
    running = log_clear[order].cumsum(0)
    totals = torch.zeros(spare + 1, device=control.device, dtype=wide).index_add(0, index, log_clear)
    after_sorted = totals.cumsum(0)[index[order]] - running
    after = torch.empty_like(after_sorted).scatter(0, order, after_sorted)     # back in stroke order
    visible = alpha * after.view_as(alpha).to(alpha.dtype).exp()                # (S,P)
    canvas = torch.zeros(3, spare + 1, device=control.device, dtype=alpha.dtype)
    contribution = (colors[:, :3, None] * visible[:, None, :]).transpose(0, 1).reshape(3, -1)
    canvas = canvas.index_add(1, index, contribution)
    image = canvas[:, :spare] + background.view(3, 1) * totals[:spare].to(alpha.dtype).exp()[None]
    return image.view(1, 3, height, width)


def to_svg(control: torch.Tensor, widths: torch.Tensor, colors: torch.Tensor, size: tuple[int, int],
           background: tuple[float, float, float]) -> str:
    """The same strokes as an SVG document (round caps and joins, as rendered)."""
    width, height = size
    bg = ",".join(str(round(c * 255)) for c in background)
    lines = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">', f'<rect width="100%" height="100%" fill="rgb({bg})"/>']
    for points, stroke_width, color in zip(control.tolist(), widths.tolist(), colors.tolist()):
        path = f"M {points[0][0]:.2f} {points[0][1]:.2f} " + " ".join(
            "C " + " ".join(f"{x:.2f} {y:.2f}" for x, y in points[i:i + 3]) for i in range(1, len(points), 3))
        rgb = ",".join(str(round(c * 255)) for c in color[:3])
        lines.append(f'<path d="{path}" fill="none" stroke="rgb({rgb})" stroke-opacity="{color[3]:.3f}" '
                     f'stroke-width="{stroke_width:.2f}" stroke-linecap="round" stroke-linejoin="round"/>')
    lines.append("</svg>")
    return "\n".join(lines) + "\n"
