"""``mocap info``: a short description of any supported file."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import MocapError
from .calibration import read_calibration
from .keypoints import keypoint_folders, read_keypoints, read_openpose_folders
from .guard import reader
from .motion import READERS, read_motion



@reader("calibration, keypoint or motion file")
def describe(path: str | Path) -> str:
    """Human-readable summary of a calibration, keypoint source or 3D motion file."""
    path = Path(path)
    if not path.exists():
        raise MocapError("file not found", path)
    name = path.name.lower()
    if name.endswith((".toml", ".qca.txt", ".yml", ".yaml")) or (path.is_dir() and (path / "intri.yml").exists()):
        rig = read_calibration(path)
        lines = [f"{path}: calibration, {len(rig)} cameras (metres, world->camera)"]
        for c in rig:
            lines.append(f"  {c.name}: {c.size[0]}x{c.size[1]} px, f = {c.focal:.1f} px, "
                         f"{'fisheye' if c.fisheye else 'pinhole'} dist {np.round(c.dist, 5).tolist()}, "
                         f"centre {np.round(c.center, 3).tolist()} m")
        return "\n".join(lines)
    if path.suffix.lower() == ".bvh":
        from .bvh import read_bvh
        from .motion import guess_bvh_units

        bvh = read_bvh(path, max_frames=2000)  # a long file is summarised from 2000 frames spread over it
        n, fps = bvh.total_frames, bvh.fps
        _, pos = bvh.global_transforms()
        height = float(np.nanmedian(np.ptp(pos[..., 1], axis=1)))
        height *= guess_bvh_units(height)
        return (f"{path}: BVH, {n} frames at {fps:g} fps ({n / fps:.2f} s), "
                f"{int((~bvh.end_sites).sum())} joints + {int(bvh.end_sites.sum())} end sites, root {bvh.names[0]}; "
                f"body height {height:.2f} m with the guessed units")
    if path.suffix.lower() in READERS and path.suffix.lower() != ".npz" or (
            path.suffix.lower() == ".npz" and "positions" in np.load(path).files):
        m = read_motion(path)
        v = m.valid
        return (f"{path}: 3D motion, {m.n_frames} frames at {m.fps:g} fps ({m.n_frames / m.fps:.2f} s), "
                f"{len(m.names)} joints ({m.skeleton.name}), metres, {m.up.upper()}-up, "
                f"{100 * v.mean():.1f} % of points valid\n  joints: {', '.join(m.names)}")
    if path.is_dir():
        multi = read_openpose_folders(keypoint_folders([path]))
        C, T, P, J, _ = multi.data.shape
        det = np.isfinite(multi.data[..., 0]).any(-1)
        return (f"{path}: OpenPose keypoints, {C} camera(s) {multi.camera_names}, {T} frames, {J} joints "
                f"({multi.skeleton.name}), up to {P} people per frame; person detected in "
                f"{100 * det.any(-1).mean():.1f} % of views")
    kp = read_keypoints(path)
    return (f"{path}: 2D keypoints (px), {kp.n_cameras} camera(s), {kp.n_frames} frames, {len(kp.skeleton)} joints "
            f"({kp.skeleton.name}), {100 * (kp.confidence > 0).mean():.1f} % detected")
