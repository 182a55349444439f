"""Labels that do not collide: a greedy placement of point labels around their markers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox

__all__ = ["place_labels", "renderer_of"]

_HA = Literal["left", "center", "right"]
_VA = Literal["bottom", "center", "top"]
_AROUND: tuple[tuple[float, float, _HA, _VA], ...] = (
    (4, 3, "left", "bottom"), (-4, 3, "right", "bottom"), (4, -3, "left", "top"), (-4, -3, "right", "top"),
    (0, 5, "center", "bottom"), (0, -5, "center", "top"), (6, 0, "left", "center"), (-6, 0, "right", "center"))
#: Offsets tried around a marker, in points (x, y, horizontal alignment, vertical alignment), nearest first.
_CANDIDATES: tuple[tuple[float, float, _HA, _VA], ...] = tuple(
    (dx * r, dy * r, ha, va) for r in (1.0, 2.2, 3.6) for dx, dy, ha, va in _AROUND)


def renderer_of(ax: Axes) -> Any:
    """A renderer for the figure of ``ax`` (the canvas's own where it has one), to measure text with."""
    fig: Any = ax.figure
    get = getattr(fig.canvas, "get_renderer", None)
    return get() if callable(get) else fig._get_renderer()


def _overlap(a: np.ndarray, boxes: np.ndarray) -> float:
    """Total area of box ``a`` (x0, y0, x1, y1) shared with each of ``boxes`` (K, 4)."""
    if len(boxes) == 0:
        return 0.0
    w = np.minimum(a[2], boxes[:, 2]) - np.maximum(a[0], boxes[:, 0])
    h = np.minimum(a[3], boxes[:, 3]) - np.maximum(a[1], boxes[:, 1])
    return float((np.clip(w, 0, None) * np.clip(h, 0, None)).sum())


def _outside(a: np.ndarray, frame: Bbox) -> float:
    """Area of box ``a`` outside the axes ``frame``."""
    inside_w = max(0.0, min(a[2], frame.x1) - max(a[0], frame.x0))
    inside_h = max(0.0, min(a[3], frame.y1) - max(a[1], frame.y0))
    return float((a[2] - a[0]) * (a[3] - a[1]) - inside_w * inside_h)


def place_labels(ax: Axes, xy: Sequence[tuple[float, float]], texts: Sequence[str], *,
                 colors: Sequence[str] | None = None, fontsize: str | float = "x-small",
                 avoid: Sequence[tuple[float, float]] = (), marker_pt: float = 5.0,
                 pad_pt: float = 1.0) -> list[Annotation]:
    """Annotate each point with its text where it collides least with the labels placed before it.

    Labels are placed in the order given (put the important ones first). Each tries the offsets of
    :data:`_CANDIDATES` around its point, nearest first, and takes the first that overlaps no label
    already placed, no marker and stays inside the axes; if none does, the one with the least overlap.
    Measured in display space on the figure's current layout, so call it once the axes are laid out
    (:meth:`~matplotlib.figure.Figure.draw_without_rendering`); the labels are left out of later
    layouts (``in_layout`` False) so placing them does not move the axes.

    Parameters
    ----------
    ax : Axes
    xy : sequence of (x, y)
        Points in data coordinates.
    texts : sequence of str
    colors : sequence of str, optional
    avoid : sequence of (x, y), optional
        Further points (unlabelled markers) the labels keep clear of.
    marker_pt : float
        Half the size of a marker, in points: labels keep clear of every point's square of that size.
    pad_pt : float
        Clearance kept around each label, in points.

    Returns
    -------
    list of Annotation
        In the order of ``texts``.
    """
    renderer = renderer_of(ax)
    fig: Any = ax.figure
    to_px = fig.dpi / 72.0
    pts = ax.transData.transform(np.asarray([*xy, *avoid], dtype=float).reshape(-1, 2))
    m, pad = marker_pt * to_px, pad_pt * to_px
    markers = np.column_stack([pts - m, pts + m])
    frame = ax.get_window_extent(renderer)
    placed: list[np.ndarray] = []
    out = []
    for i, text in enumerate(texts):
        ann = ax.annotate(text, xy[i], xytext=(0, 0), textcoords="offset points", fontsize=fontsize, zorder=4,
                          color=(colors[i] if colors else "#222222"), annotation_clip=False,
                          path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])
        ann.set_in_layout(False)
        others = np.delete(markers, i, axis=0)
        best: tuple[float, tuple[float, float, _HA, _VA]] | None = None
        for cand in _CANDIDATES:
            ann.set_position(cand[:2])
            ann.set_horizontalalignment(cand[2])
            ann.set_verticalalignment(cand[3])
            e = ann.get_window_extent(renderer)
            box = np.array([e.x0 - pad, e.y0 - pad, e.x1 + pad, e.y1 + pad])
            cost = _overlap(box, np.array(placed).reshape(-1, 4)) * 4.0 + _overlap(box, others) \
                + _outside(box, frame) * 2.0
            if best is None or cost < best[0]:
                best = (cost, cand)
            if cost == 0.0:
                break
        assert best is not None
        ann.set_position(best[1][:2])
        ann.set_horizontalalignment(best[1][2])
        ann.set_verticalalignment(best[1][3])
        e = ann.get_window_extent(renderer)
        placed.append(np.array([e.x0 - pad, e.y0 - pad, e.x1 + pad, e.y1 + pad]))
        out.append(ann)
    return out
