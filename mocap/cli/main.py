"""Command line: a thin layer over the API. Errors print one line and exit with code 2."""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from .. import runtime
from ..errors import MocapError
from .common import _console, _progress

DEMO_DIR = Path(__file__).parents[1] / "data" / "demo"


def cmd_triangulate(args) -> int:
    from ..pipelines.multiview import TriangulationJob, run_triangulation, triangulate_job

    console = _console(args)
    if not args.keypoints and not args.videos:
        raise MocapError("give --keypoints (OpenPose JSON folders) or --videos")
    job = TriangulationJob(args.calib, args.keypoints or [], args.output, args.skeleton, args.fps, args.mode,
                           args.refine, args.threshold, args.min_confidence, args.smooth, args.rig)
    if args.videos:
        from ..io.calibration import read_calibration
        from ..pipelines.monocular import detect_videos

        rig = read_calibration(args.calib)
        if len(args.videos) != len(rig):
            raise MocapError(f"{len(args.videos)} videos but {len(rig)} cameras in the calibration", args.calib)
        with _progress(console) as prog:
            task = prog.add_task("detecting", total=1)
            kp, dets = detect_videos(args.videos, lambda d, t: prog.update(task, completed=d, total=t))
        for v, d in zip(args.videos, dets):
            rate = 100 * (1 - len(d.missing_frames) / max(1, d.keypoints.n_frames))
            console.print(f"{v}: person detected in {rate:.1f} % of {d.keypoints.n_frames} frames", soft_wrap=True)
        res = triangulate_job(kp, rig, job)
    else:
        with _progress(console) as prog:
            task = prog.add_task("triangulating", total=1)
            res = run_triangulation(job, lambda done, total: prog.update(task, completed=done, total=total))
    _report_triangulation(console, res, args.output, args.report)
    return 0


def _report_triangulation(console: Console, res, output, report=None) -> None:
    _summary(console, res)
    if res.quality:
        (j0, j1), (c0, c1) = res.quality["jitter"], res.quality["bone_cv"]
        console.print(f"refinement: jitter {j0:.1f} -> {j1:.1f} m/s^2, bone length CV {100 * c0:.2f} -> {100 * c1:.2f} %")
    for note in res.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    if report:
        from ..viz.plots import plot_triangulation

        plot_triangulation(res, report)
        console.print(f"wrote {report} (reprojection error and bone lengths over time)", soft_wrap=True)
    console.print(f"wrote {output}  ({res.motion.n_frames} frames, {len(res.motion.names)} joints, "
                  f"{res.motion.fps:g} fps, metres)")


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


def cmd_lift(args) -> int:
    from ..pipelines.monocular import lift_keypoints

    console = _console(args)
    size = (args.width, args.height)
    motion, notes = lift_keypoints(args.keypoints, args.output, size, args.focal, args.skeleton, args.fps, args.rig,
                                   args.weights, args.live)
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    console.print(f"wrote {args.output}: {motion.n_frames} frames at {motion.fps:g} fps (lifter, camera focal "
                  f"{args.focal or max(size):g} px)", soft_wrap=True)
    return 0


def cmd_lifter(args) -> int:
    from ..lift.model import CAUSAL_WEIGHTS, WEIGHTS, load_model
    from ..lift.train import evaluate_validation, train
    from ..pipelines.lifter_eval import evaluate_real

    console = _console(args)
    if args.action == "train":
        card = train(args.data, args.output or (CAUSAL_WEIGHTS if args.causal else WEIGHTS), minutes=args.minutes, seed=args.seed,
                     causal=args.causal, steps=args.steps, pose_aug=args.pose_aug, log=lambda m: console.print(m, soft_wrap=True))
        console.print(f"validation: {card['metrics']}", soft_wrap=True)
        return 0
    model, card = load_model(args.weights or WEIGHTS)
    t = Table(title="Validation (clips never trained on; 2D noise 3 px at f = 1000 px)")
    for col in ("clip", "MPJPE mm", "PA-MPJPE mm", "root depth mm"):
        t.add_column(col, justify="right")
    for r in evaluate_validation(model, args.data):
        t.add_row(r["clip"], f"{r['mpjpe_mm']:.1f}", f"{r['pa_mpjpe_mm']:.1f}", f"{r['root_depth_mm']:.0f}")
    console.print(t)
    if args.videos:
        t = Table(title="Real footage: PA-MPJPE vs the multi-view triangulation (mm)")
        for col in ("camera", "frames", "lifter", "MediaPipe world"):
            t.add_column(col, justify="right")
        rows = evaluate_real(model, args.videos, args.calib)
        for r in rows:
            t.add_row(r["camera"], str(r["frames"]), f"{r['lifter_pa_mpjpe_mm']:.1f}", f"{r['mediapipe_pa_mpjpe_mm']:.1f}")
        n = np.array([r["frames"] for r in rows], float)
        mean = {k: float((n * [r[k] for r in rows]).sum() / max(n.sum(), 1)) for k in ("lifter_pa_mpjpe_mm", "mediapipe_pa_mpjpe_mm")}
        t.add_row("all (frame-weighted)", str(int(n.sum())), f"{mean['lifter_pa_mpjpe_mm']:.1f}",
                  f"{mean['mediapipe_pa_mpjpe_mm']:.1f}")
        console.print(t)
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


def _summary(console: Console, res) -> None:
    t = Table(title=f"Cameras ({res.method})")
    for col in ("camera", "detections", "mean error px", "rejected %"):
        t.add_column(col, justify="right")
    for c in res.camera_summary():
        t.add_row(c["camera"], str(c["detections"]), f"{c['mean_error_px']:.2f}", f"{c['rejected_pct']:.1f}")
    console.print(t)
    j = Table(title="Joints")
    for col in ("joint", "mean error px", "views", "valid %"):
        j.add_column(col, justify="right")
    for r in res.joint_summary():
        j.add_row(r["joint"], f"{r['mean_error_px']:.2f}", f"{r['views']:.2f}", f"{r['valid_pct']:.1f}")
    console.print(j)
    console.print(f"mean reprojection error {np.nanmean(res.reprojection_error):.2f} px; "
                  f"{100 * res.motion.valid.mean():.1f} % of points triangulated")


def cmd_info(args) -> int:
    from ..io.describe import describe

    console = _console(args)
    for f in args.files:
        console.print(describe(f), soft_wrap=True)
    return 0


def cmd_demo(args) -> int:
    """The bundled samples: 4 cameras' OpenPose keypoints -> refined demo.trc -> demo.bvh, and one
    video -> out.bvh + preview.mp4 (the main job); the same steps and output as the commands."""
    from ..pipelines.convert import convert_file
    from ..pipelines.multiview import TriangulationJob, run_triangulation

    console = _console(args)
    out = Path(args.output) / "demo.trc"
    job = TriangulationJob(DEMO_DIR / "calib.toml", [DEMO_DIR / "pose"], out, "body_25b", 60.0, smooth=True)
    with _progress(console) as prog:
        task = prog.add_task("triangulating", total=1)
        res = run_triangulation(job, lambda done, total: prog.update(task, completed=done, total=total))
    _report_triangulation(console, res, out)
    convert_file(out, out.with_suffix(".bvh"), rig="mixamo")
    console.print(f"wrote {out.with_suffix('.bvh')}  (Mixamo rig, cm, Y-up: File > Import > Motion Capture "
                  f"(.bvh) in Blender, scale 0.01)", soft_wrap=True)
    _video_to_bvh(console, DEMO_DIR / "cam01.mp4", Path(args.output) / "out.bvh", "mixamo",
                  Path(args.output) / "preview.mp4")
    return 0


def cmd_convert(args) -> int:
    from ..pipelines.convert import convert_file
    from ..retarget.solve import Retargeted

    console = _console(args)
    res = convert_file(args.input, args.output, rig=args.rig, units=args.units, fps=args.fps,
                       in_units=args.in_units, ground=not args.no_ground, face_forward=args.face_forward,
                       **({"height": args.height} if args.height else {}))
    if isinstance(res, Retargeted):
        held = int(res.kept[:, :].any(axis=1).sum())
        console.print(f"wrote {args.output}: rig {res.rig.name}, {res.local.shape[0]} frames at {res.fps:g} fps, "
                      f"{args.units or 'cm'}, Y-up; subject height {res.proportions.height:.2f} m"
                      + (f"; {held} frames held a joint's last good rotation" if held else ""), soft_wrap=True)
    else:
        console.print(f"wrote {args.output}: {res.n_frames} frames, {len(res.names)} markers", soft_wrap=True)
    return 0


def cmd_smooth(args) -> int:
    from ..io.motion import load_motion, write_motion
    from ..smooth.clean import clean_motion
    from ..smooth.metrics import bone_length_cv, jitter

    console = _console(args)
    m = load_motion(args.input)
    params = {}
    for kv in args.param or []:
        k, _, v = kv.partition("=")
        try:
            params[k.strip()] = float(v)
        except ValueError:
            raise MocapError(f"--param {kv!r}: expected NAME=NUMBER") from None
    res = clean_motion(m, args.filter, params, args.max_gap, not args.no_hampel)
    pos, spikes, filled = res.motion.positions, res.spikes, res.filled
    write_motion(res.motion, args.output)
    b = m.skeleton.rigid_bone_indices
    t = Table(title=f"{args.filter} smoothing")
    for col in ("", "before", "after"):
        t.add_column(col, justify="right")
    t.add_row("jitter (m/s^2)", f"{jitter(m.positions, m.fps):.2f}", f"{jitter(pos, m.fps):.2f}")
    if len(b):
        t.add_row("bone length CV (%)", f"{100 * np.nanmean(bone_length_cv(m.positions, b)):.2f}",
                  f"{100 * np.nanmean(bone_length_cv(pos, b)):.2f}")
    console.print(t)
    left = int((~np.isfinite(pos).all(-1)).sum())
    console.print(f"wrote {args.output}: {spikes} spikes removed, {int(filled.sum())} missing points filled, "
                  f"{left} left empty (gaps longer than {args.max_gap:g} s)", soft_wrap=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mocap", description="2D keypoints to animation-ready 3D.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("triangulate", help="multi-camera 2D keypoints + calibration -> 3D (TRC/CSV/NPZ)")
    t.add_argument("--calib", required=True, help="calibration: Pose2Sim/anipose .toml, Qualisys .qca.txt, intri.yml")
    t.add_argument("--keypoints", nargs="+", help="OpenPose JSON folders, one per camera (or their parent folder)")
    t.add_argument("--videos", nargs="+", help="synchronised videos, one per camera, in calibration order "
                                               "(detected with the built-in detector)")
    t.add_argument("--rig", default="mixamo", help="rig when -o is a .bvh (default mixamo)")
    t.add_argument("-o", "--output", required=True, help="output .trc (Y-up), .csv, .npz, .c3d (metres) or .bvh")
    t.add_argument("--skeleton", default=None, help="keypoint layout (default: from the data)")
    t.add_argument("--fps", type=float, default=30.0, help="frame rate of the keypoints (default 30)")
    t.add_argument("--mode", choices=["robust", "pose2sim"], default="robust",
                   help="robust (default) or Pose2Sim-compatible camera exclusion")
    t.add_argument("--refine", action="store_true", help="nonlinear refinement of the distorted reprojection error")
    t.add_argument("--threshold", type=float, default=None, help="outlier threshold, px (default 1.5%% of image size)")
    t.add_argument("--min-confidence", type=float, default=0.3, help="ignore detections below this (default 0.3)")
    t.add_argument("--smooth", action="store_true",
                   help="refine all frames jointly: reprojection + smoothness + constant bone lengths, fill gaps <= 0.5 s")
    t.add_argument("--report", help="write a picture of reprojection error and bone lengths over time (.png)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress or tables")
    t.set_defaults(func=cmd_triangulate)

    c = sub.add_parser("convert", help="convert between 3D formats (.trc .csv .npz .c3d .bvh); BVH output is retargeted")
    c.add_argument("input")
    c.add_argument("output")
    c.add_argument("--rig", default="generic", help="BVH rig: generic, mixamo, cmu, smpl (default generic)")
    c.add_argument("--units", default=None, help="output units: m, cm, mm (default: cm for BVH, m for TRC/CSV, mm for C3D)")
    c.add_argument("--fps", type=float, default=None, help="resample to this frame rate")
    c.add_argument("--in-units", default="auto", help="units of a BVH input (default: guessed from the hips)")
    c.add_argument("--height", type=float, default=None, help="size the rig to this standing height (m) instead of the subject's bones")
    c.add_argument("--no-ground", action="store_true", help="do not put the lowest foot on the floor")
    c.add_argument("--face-forward", action="store_true", help="turn the character to face +Z at the first frame")
    c.add_argument("-q", "--quiet", action="store_true")
    c.set_defaults(func=cmd_convert)

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

    li = sub.add_parser("lift", help="one camera's 2D keypoints -> 3D (learned lifter) -> .bvh/.trc/...")
    li.add_argument("keypoints", help="keypoints .npz/.csv, COCO .json or an OpenPose JSON folder")
    li.add_argument("-o", "--output", required=True)
    li.add_argument("--skeleton", default=None)
    li.add_argument("--fps", type=float, default=None)
    li.add_argument("--focal", type=float, default=None, help="focal length, px (default: larger image side)")
    li.add_argument("--width", type=int, default=1920, help="image width, px (default 1920)")
    li.add_argument("--height", type=int, default=1080, help="image height, px (default 1080)")
    li.add_argument("--rig", default="mixamo")
    li.add_argument("--live", action="store_true",
                    help="the causal (live) weights: each frame from the past 26 frames only, no look-ahead")
    li.add_argument("--weights", default=None, help="lifter weights file (default: the shipped ones)")
    li.add_argument("-q", "--quiet", action="store_true")
    li.set_defaults(func=cmd_lift)

    lt = sub.add_parser("lifter", help="train or evaluate the monocular lifter")
    lt.add_argument("action", choices=["train", "eval"])
    lt.add_argument("--data", default="../shared/data/mocap", help="motion capture folder (BVH)")
    lt.add_argument("--minutes", type=float, default=40.0)
    lt.add_argument("--seed", type=int, default=0)
    lt.add_argument("--steps", type=int, default=None, help="train this many steps (deterministic) instead of --minutes")
    lt.add_argument("--causal", action="store_true", help="train the live variant (no look-ahead)")
    lt.add_argument("--pose-aug", type=float, default=0.5,
                    help="share of training samples given new poses: trunk lean, limbs turned (default 0.5)")
    lt.add_argument("-o", "--output", default=None, help="weights file to write (default: the shipped one)")
    lt.add_argument("--weights", default=None)
    lt.add_argument("--videos", nargs="*", help="eval on real footage: synchronised videos + --calib")
    lt.add_argument("--calib", default=None)
    lt.add_argument("-q", "--quiet", action="store_true")
    lt.set_defaults(func=cmd_lifter)

    sm = sub.add_parser("smooth", help="remove spikes, fill short gaps and filter a 3D motion")
    sm.add_argument("input")
    sm.add_argument("-o", "--output", required=True)
    sm.add_argument("--filter", default="butterworth",
                    help="butterworth (default), savgol, median, gaussian, one_euro, kalman")
    sm.add_argument("--param", action="append", help="filter parameter NAME=VALUE, e.g. cutoff=6 (Hz)")
    sm.add_argument("--max-gap", type=float, default=0.5, help="fill gaps up to this many seconds (default 0.5)")
    sm.add_argument("--no-hampel", action="store_true", help="keep spikes (no Hampel outlier removal)")
    sm.add_argument("-q", "--quiet", action="store_true")
    sm.set_defaults(func=cmd_smooth)

    i = sub.add_parser("info", help="describe any supported file")
    i.add_argument("files", nargs="+")
    i.set_defaults(func=cmd_info)

    from .calibrate import add_commands
    from .view import add_commands as add_view_commands

    add_commands(sub)
    add_view_commands(sub)

    d = sub.add_parser("demo", help="run the bundled multi-camera sample")
    d.add_argument("-o", "--output", default="demo_out", help="output folder (default demo_out)")
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(func=cmd_demo)
    _add_verbose(p)
    return p


def _add_verbose(parser: argparse.ArgumentParser) -> None:
    """``--verbose`` on the program and on every (sub)command: shows third-party log output."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_verbose(child)
    parser.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show third-party log output (TF Lite, absl, Open3D/GLFW, warnings)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    loud = getattr(args, "verbose", False)
    runtime.set_verbose(loud)
    runtime.quiet_environment()
    if not loud:  # third-party deprecation and runtime warnings; our own still show
        warnings.filterwarnings("ignore", module=r"^(?!mocap\b)")
    try:
        return args.func(args)
    except MocapError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
