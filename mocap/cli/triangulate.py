"""``mocap triangulate``: several calibrated views -> 3D, with per-camera and per-joint tables."""
from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table

from ..errors import MocapError
from ..pipelines.options import TriangulationJob
from ..pipelines.options import SyncOptions
from .common import _console, _progress
from .options import add_options, from_args

KEYPOINTS_HELP = ("every camera's 2D keypoints: OpenPose JSON folders (or their parent folder), one .npz/.csv holding "
                  "every camera, or one file per camera (.npz of mocap detect, COCO .json) in the calibration's order")


def cmd_triangulate(args) -> int:
    from ..pipelines.multiview import run_people, run_triangulation, triangulate_videos

    console = _console(args)
    if not args.keypoints and not args.videos:
        raise MocapError("give --keypoints (OpenPose JSON folders or keypoint files) or --videos")
    job = from_args(TriangulationJob, args, calib=args.calib, keypoints=args.keypoints or [], output=args.output)
    with _progress(console) as prog:
        task = prog.add_task("detecting people" if job.tracks_people else "detecting", total=1) if args.videos else \
            prog.add_task("tracking people" if job.tracks_people else "triangulating", total=1)
        progress = lambda done, total: prog.update(task, completed=done, total=total)  # noqa: E731
        lines = []
        if args.videos:
            track = lambda done, total: prog.update(task, description="tracking people", completed=done,  # noqa: E731
                                                    total=total)
            res, lines = triangulate_videos(args.videos, job, progress, track)
        else:
            res = (run_people if job.tracks_people else run_triangulation)(job, progress)
    for line in lines:
        console.print(line, soft_wrap=True)
    if job.tracks_people:
        _report_people(console, job, res)
    else:
        _report_triangulation(console, res, args.output, args.report)
    return 0


def _report_people(console: Console, job, res) -> None:
    t = Table(title=f"People ({len(res.people)} of {len(res.tracks.ids)} tracked)")
    for col in ("id", "frames", "first-last", "views/joint", "error px", "valid %", "file"):
        t.add_column(col, justify="right")
    for p in res.people:
        r = p.result
        views = r.views_used[r.motion.valid]
        t.add_row(str(p.id), str(p.frames), f"{p.first}-{p.last}", f"{views.mean():.2f}" if views.size else "-",
                  f"{np.nanmean(r.reprojection_error):.2f}" if np.isfinite(r.reprojection_error).any() else "-",
                  f"{100 * r.motion.valid.mean():.1f}", str(p.output.name) if p.output else "")
    console.print(t)
    for note in res.notes + [n for p in res.people for n in (f"p{p.id}: {m}" for m in p.result.notes)]:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    console.print(f"wrote {job.output}" if job.one_file else
                  f"wrote {len(res.people)} files: {', '.join(p.output.name for p in res.people)}", soft_wrap=True)


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


def _summary(console: Console, res) -> None:
    t = Table(title=f"Cameras ({res.method})")
    for col in ("camera", "detections", "mean error px", "rejected %"):
        t.add_column(col, justify="right")
    for c in res.camera_summary():
        t.add_row(c["camera"], str(c["detections"]), f"{c['mean_error_px']:.2f}", f"{c['rejected_pct']:.1f}")
    console.print(t)
    j = Table(title="Joints")
    for col in ("joint", "mean error px", "views", "valid %", "re-triangulated", "left empty"):
        j.add_column(col, justify="right")
    for r in res.joint_summary():
        j.add_row(r["joint"], f"{r['mean_error_px']:.2f}", f"{r['views']:.2f}", f"{r['valid_pct']:.1f}",
                  str(r["retriangulated"]), str(r["rejected"]))
    console.print(j)
    bones = res.bone_summary()
    if bones:
        b = Table(title="Bones " + ("held by the refinement" if "bones" in res.quality else "the checks measured"))
        for col in ("bone", "length mm", "frames"):
            b.add_column(col, justify="right")
        for r in bones:
            b.add_row(r["bone"], f"{r['length_mm']:.0f}", str(r["frames"]))
        console.print(b)
    console.print(f"mean reprojection error {np.nanmean(res.reprojection_error):.2f} px; "
                  f"{100 * res.motion.valid.mean():.1f} % of points triangulated")


def cmd_sync(args) -> int:
    from ..pipelines.sync import sync_cameras

    console = _console(args)
    with _progress(console) as prog:
        tasks = {}

        def progress(video, done, total):
            if video not in tasks:
                tasks[video] = prog.add_task(f"detecting people in {video}", total=1)
            prog.update(tasks[video], completed=done, total=total)

        job = sync_cameras(args.calib, args.keypoints, args.videos, args.output, options=from_args(SyncOptions, args), progress=progress)
    res = job.result
    table = Table(title=f"time offsets to {res.reference} ({res.method})", title_justify="left")
    for col in ("camera", "offset (frames)", "offset (ms)", "confidence"):
        table.add_column(col, justify="left" if col == "camera" else "right")
    for n, o, f, c in zip(res.cameras, res.offsets_s, res.fps, res.confidence):
        table.add_row(n, "-" if o is None else f"{o * f:+.2f}", "-" if o is None else f"{1000 * o:+.1f}", f"{c:.2f}")
    console.print(table)
    for note in job.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    for w in res.warnings:
        console.print(f"[yellow]warning:[/] {w}", soft_wrap=True)
    console.print(f"wrote {job.output}: use it with mocap triangulate --sync {job.output}", soft_wrap=True)
    return 0


def add_commands(sub) -> None:
    t = sub.add_parser("triangulate", help="multi-camera 2D keypoints + calibration -> 3D (TRC/CSV/NPZ)")
    t.add_argument("--calib", required=True, help="calibration: Pose2Sim/anipose .toml, Qualisys .qca.txt, intri.yml")
    t.add_argument("--keypoints", nargs="+", help=KEYPOINTS_HELP)
    t.add_argument("--videos", nargs="+", help="synchronised videos, one per camera, in calibration order "
                                               "(detected with the built-in detector)")
    add_options(t, TriangulationJob, "rig")
    t.add_argument("-o", "--output", required=True, help="output .trc (Y-up), .csv, .npz, .c3d (metres) or an animation: .bvh, .glb, .gltf, .fbx")
    add_options(t, TriangulationJob, "skeleton", "fps", "mode", "refine", "threshold_px", "min_confidence", "smooth",
                "contacts", "people", "one_file")
    t.add_argument("--report", help="write a picture of reprojection error and bone lengths over time (.png)")
    add_options(t, TriangulationJob, "sync", "sync_method", "workers")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress or tables")
    t.set_defaults(func=cmd_triangulate)

    sy = sub.add_parser("sync", help="each camera's time offset (sub-frame) to a reference camera, from the people in view")
    sy.add_argument("--calib", required=True, help="calibration (the geometric method uses it; names the cameras)")
    sy.add_argument("--keypoints", nargs="+", help=KEYPOINTS_HELP)
    sy.add_argument("--videos", nargs="+", help="or the videos, one per camera (everyone detected; frame rates and "
                                                "dropped frames from the files)")
    sy.add_argument("-o", "--output", default=None, help="offsets .toml (default: <calibration>_offsets.toml beside it)")
    add_options(sy, SyncOptions, "fps", "method", "reference", "max_offset", "skeleton")
    sy.add_argument("-q", "--quiet", action="store_true")
    sy.set_defaults(func=cmd_sync)
