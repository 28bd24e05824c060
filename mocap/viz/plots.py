"""Quality plots over time for the CLI reports (matplotlib, Agg): reprojection error per camera and
bone lengths, where a person would rather look than read a table."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io.atomic import atomic_path


def plot_triangulation(res, path: str | Path) -> Path:
    """Panels over time: each camera's median reprojection error of its inlier views (px), every rigid bone's
    length (cm) and, when the motion has contacts, which foot joint is planted when (:func:`contact_strip`).
    ``res``: a :class:`~mocap.triangulate.TriangulationResult`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = res.motion
    t = m.times
    strip = m.contacts is not None
    fig, axes = plt.subplots(3 if strip else 2, 1, figsize=(10, 8 if strip else 6.5), sharex=True,
                             gridspec_kw={"height_ratios": [3, 3, 1.2] if strip else [1, 1]})
    a, b = axes[:2]
    err = np.where(res.inliers, res.view_errors, np.nan)  # (C, T, J)
    with np.errstate(all="ignore"):
        for c, name in enumerate(res.camera_names or range(len(err))):
            a.plot(*envelope(t, np.nanmedian(err[c], axis=-1)), lw=1, label=str(name))
    a.set_ylabel("median reprojection error px")
    a.legend(fontsize=8, ncol=4)
    a.set_title("reprojection error of the inlier views, per camera")
    bones = m.skeleton.rigid_bone_indices
    L = np.linalg.norm(m.positions[:, bones[:, 1]] - m.positions[:, bones[:, 0]], axis=-1) * 100
    for i, (p, c) in enumerate(bones):
        b.plot(*envelope(t, L[:, i]), lw=0.8, label=f"{m.skeleton.joints[p]}-{m.skeleton.joints[c]}")
    b.set_ylabel("bone length cm")
    b.set_title("rigid bone lengths (flat lines = constant bones)")
    b.legend(fontsize=6, ncol=4)
    if strip:
        contact_strip(axes[2], t, m.contacts, m.names)
    axes[-1].set_xlabel("time s")
    return _save(fig, path)


def plot_motion(motion, path: str | Path) -> Path:
    """One camera's motion over time: each foot joint's height above the floor (cm; the floor at height 0, Y-up)
    and, with contacts, when each is planted (:func:`contact_strip`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t, feet = motion.times, motion.foot_joints
    strip = motion.contacts is not None
    fig, axes = plt.subplots(2 if strip else 1, 1, figsize=(10, 5 if strip else 3.5), sharex=True, squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.2] if strip else [1]})
    a = axes[0, 0]
    up = 1 if motion.up == "y" else 2
    for j in feet:
        a.plot(*envelope(t, motion.positions[:, j, up] * 100), lw=0.9, label=motion.names[j])
    a.axhline(0.0, color="k", lw=0.6)
    a.set_ylabel("height cm")
    a.set_title("feet above the floor")
    a.legend(fontsize=8, ncol=4)
    if strip:
        contact_strip(axes[1, 0], t, motion.contacts, motion.names)
    axes[-1, 0].set_xlabel("time s")
    return _save(fig, path)


def envelope(t: np.ndarray, y: np.ndarray, bins: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """A long series ``t, y (T,)`` as what a picture of it shows: for more than ``2 * bins`` samples, the lowest and
    the highest value of each of ``bins`` runs of samples, in time order (a spike of one frame stays visible; a run
    without a value stays a gap); shorter series as they are."""
    T = len(y)
    if T <= 2 * bins:
        return t, y
    edges = np.linspace(0, T, bins + 1).astype(int)
    lo, hi = edges[:-1], edges[1:]
    with np.errstate(all="ignore"):
        ymin = np.fmin.reduceat(y, lo)
        ymax = np.fmax.reduceat(y, lo)
        tmid = (t[lo] + t[hi - 1]) / 2
    return np.repeat(tmid, 2), np.stack([ymin, ymax], -1).ravel()


def contact_strip(ax, times: np.ndarray, contacts: np.ndarray, names: list[str]) -> None:
    """One row per foot joint that is ever planted (``contacts (T, J)``), filled where it is; its share of frames
    in the label."""
    from ..smooth.gaps import gap_runs

    feet = [j for j in range(contacts.shape[1]) if contacts[:, j].any()]
    dt = float(times[1] - times[0]) if len(times) > 1 else 1.0
    for row, j in enumerate(feet):
        spans = [(times[a], (b - a) * dt) for a, b in gap_runs(contacts[:, j])]
        ax.broken_barh(spans, (row - 0.4, 0.8), color=f"C{row}")
    ax.set_yticks(range(len(feet)), [f"{names[j]} {100 * contacts[:, j].mean():.0f} %" for j in feet], fontsize=7)
    ax.set_ylim(-0.6, max(len(feet), 1) - 0.4)
    ax.set_title("planted (foot contacts)", fontsize=9)


def _save(fig, path: str | Path) -> Path:
    """``fig`` as a PNG at ``path`` (atomic), closed."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path
