"""Calibration reports: the text a user reads and the picture they look at (matplotlib, Agg)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io.atomic import atomic_path
from .extrinsics import ExtrinsicsResult
from .intrinsics import IntrinsicsResult


def intrinsics_text(res: IntrinsicsResult) -> list[str]:
    K, d = res.camera.K, res.camera.dist
    lines = [f"{res.camera.name}: {len(res.used)} views used, RMS {res.rms:.3f} px, f = {K[0, 0]:.1f} / {K[1, 1]:.1f} px"
             f" (+/- {res.focal_std:.1f}), centre {K[0, 2]:.1f}, {K[1, 2]:.1f}, distortion {np.round(d, 4).tolist()}, "
             f"corner coverage {100 * res.coverage_fraction:.0f} %"]
    lines += [f"  skipped {name}: {why}" for name, why in res.rejected.items()]
    lines += [f"  warning: {w}" for w in res.warnings]
    return lines


def extrinsics_text(res: ExtrinsicsResult) -> list[str]:
    lines = [f"{cam.name}: centre {np.round(cam.center, 3).tolist()} m, {res.views[cam.name]} views, RMS "
             f"{res.errors[cam.name]:.2f} px, {res.outliers.get(cam.name, 0)} observations beyond 5x the noise scale"
             for cam in res.rig]
    return lines + [f"note: {n}" for n in res.notes]


def _save(fig, path: str | Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(fig)


def plot_intrinsics(results: list[IntrinsicsResult], path: str | Path) -> None:
    """One row per camera: where corners fell in the image (coverage grid) and each view's RMS error."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 2, figsize=(10, 3.2 * len(results)), squeeze=False)
    for (ax_c, ax_e), r in zip(axes, results):
        w, h = r.camera.size
        ax_c.imshow(r.coverage, extent=(0, w, h, 0), cmap="Greens", vmin=0)
        ax_c.set_title(f"{r.camera.name}: corner coverage {100 * r.coverage_fraction:.0f} %")
        ax_c.set_xlabel("x px")
        ax_c.set_ylabel("y px")
        names = list(r.view_errors)
        errs = [r.view_errors[n] for n in names]
        colors = ["tab:blue" if n in r.used else "tab:red" for n in names]
        ax_e.bar(range(len(names)), errs, color=colors)
        ax_e.axhline(r.rms, color="k", lw=1, ls="--", label=f"RMS {r.rms:.2f} px (used views)")
        ax_e.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
        ax_e.set_ylabel("view RMS error px")
        ax_e.set_title("per-view error (red: rejected)")
        ax_e.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def plot_extrinsics(res: ExtrinsicsResult, path: str | Path, points: np.ndarray | None = None) -> None:
    """Top view of the camera centres and viewing directions (plus optional scene points ``(N, 3)``)
    and each camera's RMS reprojection error."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax_e) = plt.subplots(1, 2, figsize=(11, 4.5))
    C = res.rig.centers
    for cam, c in zip(res.rig, C):
        d = cam.R[2] * 0.5
        ax.plot(*c[:2], "o")
        ax.annotate(cam.name, c[:2], textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.arrow(c[0], c[1], d[0], d[1], head_width=0.08, length_includes_head=True)
    if points is not None and len(points):
        p = points[np.isfinite(points).all(-1)]
        ax.plot(p[:, 0], p[:, 1], ".", ms=1, color="0.6")
    ax.set_aspect("equal")
    ax.set_xlabel("x m")
    ax.set_ylabel("y m")
    ax.set_title("cameras (top view)")
    names = res.rig.names
    ax_e.bar(range(len(names)), [res.errors[n] for n in names])
    ax_e.set_xticks(range(len(names)), names)
    ax_e.set_ylabel("RMS reprojection error px")
    fig.tight_layout()
    _save(fig, path)
