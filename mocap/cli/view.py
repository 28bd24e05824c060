"""``mocap view`` and ``mocap render``: argument parsing over :mod:`mocap.viz.viewer` and :mod:`mocap.viz.render`."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import MocapError


def _motions(args):
    """Motions from 3D files (a multi-person NPZ gives everyone), or from keypoint folders + a calibration
    (triangulated and refined), with a label each: ``p<ID>`` for people (``take_p2.trc`` or an NPZ's IDs),
    else the file's name."""
    from ..io.motion import load_motion, read_people_npz

    motions, labels = [], []
    for f in args.inputs:
        if Path(f).suffix.lower() == ".npz":
            ids, ms = read_people_npz(f)
            motions += ms
            labels += [f"p{i}" for i in ids] if len(ms) > 1 else [Path(f).stem]
        else:
            motions.append(load_motion(f))
            m = re.search(r"_p(\d+)$", Path(f).stem)
            labels.append(f"p{m.group(1)}" if m else Path(f).stem)
    args.labels = labels
    rig = None
    if args.calib:
        from ..io.calibration import read_calibration

        rig = read_calibration(args.calib)
    if args.keypoints:
        if rig is None:
            raise MocapError("--keypoints need --calib (to triangulate them)")
        from ..pipelines.options import TriangulationJob
        from ..pipelines.multiview import run_triangulation

        motions.append(run_triangulation(TriangulationJob(args.calib, args.keypoints, fps=args.fps, smooth=True)).motion)
        labels.append("triangulated")
    if not motions:
        raise MocapError("nothing to show: give 3D files (.bvh .trc .c3d .npz .csv) or --keypoints with --calib")
    return motions, rig


def _camera(args, rig, motions):
    from ..viz.render import auto_camera

    if not args.camera:
        w, h = args.size
        return auto_camera([m.to_up("z") for m in motions], (w, h))
    if rig is None:
        raise MocapError("--camera needs --calib")
    if args.camera not in rig.names:
        raise MocapError(f"no camera {args.camera!r} in the calibration (has {', '.join(rig.names)})", args.calib)
    return replace(rig[rig.names.index(args.camera)], dist=np.zeros(4))  # drawn without lens distortion


def cmd_view(args) -> int:
    from .common import _console
    from ..viz.scene import TINT_NAMES
    from ..viz.viewer import view

    console = _console(args)
    motions, rig = _motions(args)
    if len(motions) > 1:
        console.print("  ".join(f"{label}: {TINT_NAMES[i % len(TINT_NAMES)]}" for i, label in enumerate(args.labels)),
                      soft_wrap=True)
    console.print("space play/pause · ←/→ step · +/- speed · L loop · Q quit", soft_wrap=True)
    pb = view(motions, rig, title=" | ".join(Path(f).name for f in args.inputs) or "mocap",
              log=lambda s: console.print(s, end="\r", soft_wrap=True))
    console.print()
    console.print(f"closed at {pb.readout}", soft_wrap=True)
    return 0


def cmd_render(args) -> int:
    from .common import _console, _progress
    from ..viz.render import export_glb, render_image, render_video

    console = _console(args)
    motions, rig = _motions(args)
    labels = args.labels if len(motions) > 1 else None
    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix == ".glb":
        export_glb(motions[0], out, args.frame)
    elif suffix == ".png":
        render_image(motions, out, args.frame or 0, _camera(args, rig, motions), rig=rig if args.frusta else None, labels=labels)
    elif suffix == ".mp4":
        with _progress(console) as bar:
            task = bar.add_task("rendering", total=max(m.n_frames for m in motions))
            render_video(motions, out, _camera(args, rig, motions), rig if args.frusta else None,
                         progress=lambda: bar.advance(task), labels=labels)
    else:
        raise MocapError("output must be .png, .mp4 or .glb", out)
    console.print(f"wrote {out}", soft_wrap=True)
    return 0


def _inputs(p) -> None:
    p.add_argument("inputs", nargs="*", help="3D files: .bvh .trc .c3d .npz .csv (several are overlaid)")
    p.add_argument("--keypoints", nargs="*", help="OpenPose JSON folders (one per camera), triangulated with --calib")
    p.add_argument("--calib", help="calibration: draws camera frusta; needed with --keypoints and --camera")
    p.add_argument("--fps", type=float, default=30.0, help="frame rate of --keypoints")
    p.add_argument("-q", "--quiet", action="store_true")


def add_commands(sub) -> None:
    v = sub.add_parser("view", help="3D viewer: skeletons, floor, cameras, playback (open3d window)")
    _inputs(v)
    v.set_defaults(func=cmd_view)
    r = sub.add_parser("render", help="render without a display: .png (one frame), .mp4 (all) or .glb (meshes)")
    _inputs(r)
    r.add_argument("-o", "--output", required=True)
    r.add_argument("--frame", type=int, default=None, help="frame index for .png/.glb (default 0 / first complete)")
    r.add_argument("--camera", help="render through this calibrated camera (name in --calib)")
    r.add_argument("--size", type=int, nargs=2, default=[960, 720], metavar=("W", "H"))
    r.add_argument("--frusta", action="store_true", help="draw the calibration's cameras")
    r.set_defaults(func=cmd_render)
