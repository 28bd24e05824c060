"""Quality plots over time for the CLI reports (matplotlib, Agg): reprojection error per camera and
bone lengths, where a person would rather look than read a table."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io.atomic import atomic_path


def plot_triangulation(res, path: str | Path) -> Path:
    """Two panels over time: each camera's median reprojection error of its inlier views (px), and
    every rigid bone's length (cm). ``res``: a :class:`~mocap.triangulate.TriangulationResult`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = res.motion
    t = m.times
    fig, (a, b) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    err = np.where(res.inliers, res.view_errors, np.nan)  # (C, T, J)
    with np.errstate(all="ignore"):
        for c, name in enumerate(res.camera_names or range(len(err))):
            a.plot(t, np.nanmedian(err[c], axis=-1), lw=1, label=str(name))
    a.set_ylabel("median reprojection error px")
    a.legend(fontsize=8, ncol=4)
    a.set_title("reprojection error of the inlier views, per camera")
    bones = m.skeleton.rigid_bone_indices
    L = np.linalg.norm(m.positions[:, bones[:, 1]] - m.positions[:, bones[:, 0]], axis=-1) * 100
    for i, (p, c) in enumerate(bones):
        b.plot(t, L[:, i], lw=0.8, label=f"{m.skeleton.joints[p]}-{m.skeleton.joints[c]}")
    b.set_ylabel("bone length cm")
    b.set_xlabel("time s")
    b.set_title("rigid bone lengths (flat lines = constant bones)")
    b.legend(fontsize=6, ncol=4)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path
