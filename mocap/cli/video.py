"""``mocap detect`` and ``mocap video2bvh``: one video -> 2D keypoints, or -> an animated BVH."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console

from .common import _console, _progress


def cmd_detect(args) -> int:
    from ..detect.detector import detect_video
    from ..io.keypoints import write_keypoints, write_openpose_folders

    console = _console(args)
    with _progress(console) as prog:
        task = prog.add_task("detecting", total=1)
        det = detect_video(args.video, stride=args.stride, resize=args.resize, start=args.start, end=args.end,
                           progress=lambda d, t: prog.update(task, completed=d, total=t))
    out = Path(args.output)
    if out.suffix.lower() in (".npz", ".csv"):
        write_keypoints(det.keypoints, out)
        if out.suffix.lower() == ".npz":
            from ..io.motion import write_npz
            write_npz(det.world, out.with_name(out.stem + "_world.npz"))
    else:
        write_openpose_folders(det.keypoints, out)
    T = det.keypoints.n_frames
    console.print(f"wrote {out}: {T} frames at {det.keypoints.fps:g} fps, person in {T - len(det.missing_frames)} "
                  f"({100 * (T - len(det.missing_frames)) / max(T, 1):.1f} %)", soft_wrap=True)
    if len(det.missing_frames) == T:
        console.print("[yellow]warning:[/] no person detected in any frame", soft_wrap=True)
    return 0


def cmd_video2bvh(args) -> int:
    _video_to_bvh(_console(args), args.video, args.output, args.rig, args.preview, args.stride, args.resize,
                  args.method, args.focal)
    return 0


def _video_to_bvh(console: Console, video, output, rig: str, preview=None, stride: int = 1, resize=None,
                  method: str = "lifter", focal=None) -> None:
    from ..pipelines.monocular import video_to_bvh

    with _progress(console) as prog:
        task = prog.add_task("detecting", total=1)
        res = video_to_bvh(video, output, rig=rig, preview=preview, stride=stride, resize=resize,
                           progress=lambda d, t: prog.update(task, completed=d, total=t), method=method, focal=focal)
    for note in res.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    if res.animation is None:
        console.print("[yellow]warning:[/] nothing written", soft_wrap=True)
        return
    console.print(f"wrote {output}: rig {rig}, {res.animation.local.shape[0]} frames at "
                  f"{res.animation.fps:g} fps, cm, Y-up" + (f"; preview {preview}" if preview else ""),
                  soft_wrap=True)


def add_commands(sub) -> None:
    de = sub.add_parser("detect", help="2D keypoints from a video (MediaPipe, bundled model, offline)")
    de.add_argument("video")
    de.add_argument("-o", "--output", required=True, help="keypoints .npz/.csv, or a folder for OpenPose JSON")
    de.add_argument("--stride", type=int, default=1, help="use every N-th frame")
    de.add_argument("--resize", type=float, default=None, help="scale frames so the longer side is this many px")
    de.add_argument("--start", type=float, default=0.0, help="start time, s")
    de.add_argument("--end", type=float, default=None, help="end time, s")
    de.add_argument("-q", "--quiet", action="store_true")
    de.set_defaults(func=cmd_detect)

    vb = sub.add_parser("video2bvh", help="one video -> animated BVH (detect, 3D, smooth, retarget)")
    vb.add_argument("video")
    vb.add_argument("-o", "--output", required=True)
    vb.add_argument("--rig", default="mixamo", help="generic, mixamo (default), cmu, smpl")
    vb.add_argument("--preview", default=None, help="write a side-by-side preview MP4")
    vb.add_argument("--method", choices=["lifter", "world"], default="lifter",
                    help="3D from our learned lifter (default: pose and root trajectory) or MediaPipe's "
                         "hip-centred world landmarks")
    vb.add_argument("--focal", type=float, default=None, help="camera focal length, px (lifter; default: larger image side)")
    vb.add_argument("--stride", type=int, default=1)
    vb.add_argument("--resize", type=float, default=None)
    vb.add_argument("-q", "--quiet", action="store_true")
    vb.set_defaults(func=cmd_video2bvh)
