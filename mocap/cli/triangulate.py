"""``mocap triangulate``: several calibrated views -> 3D, with per-camera and per-joint tables."""
from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table

from ..errors import MocapError
from .common import _console, _progress, add_contacts_option


def cmd_triangulate(args) -> int:
    from ..pipelines.multiview import TriangulationJob, run_triangulation, triangulate_job

    console = _console(args)
    if not args.keypoints and not args.videos:
        raise MocapError("give --keypoints (OpenPose JSON folders) or --videos")
    people = _people(args.people)
    job = TriangulationJob(args.calib, args.keypoints or [], args.output, skeleton=args.skeleton, fps=args.fps,
                           mode=args.mode, refine=args.refine, threshold_px=args.threshold,
                           min_confidence=args.min_confidence, smooth=args.smooth, rig=args.rig, people=people,
                           one_file=args.one_file, sync=args.sync, sync_method=args.sync_method, contacts=args.contacts)
    if args.sync and args.videos:
        raise MocapError("--sync works with --keypoints (run `mocap detect` on each video first)")
    if people != 1 or args.one_file:
        return _triangulate_people(console, job, args.videos)
    if args.videos:
        from ..io.calibration import read_calibration
        from ..pipelines.monocular import detect_videos

        rig = read_calibration(args.calib)
        rig.require_views(len(args.videos), "videos", args.calib)
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


def _people(value: str) -> int | str:
    if value == "all":
        return "all"
    if not value.isdigit() or int(value) < 1:
        raise MocapError(f"--people takes 'all' or a number of people >= 1, not {value!r}")
    return int(value)


def _triangulate_people(console: Console, job, videos=None) -> int:
    from ..pipelines.multiview import run_people, triangulate_people

    with _progress(console) as prog:
        if videos:
            from ..io.calibration import read_calibration
            from ..pipelines.monocular import detect_videos_people

            rig = read_calibration(job.calib)
            rig.require_views(len(videos), "videos", job.calib)
            task = prog.add_task("detecting people", total=1)
            multi, seen = detect_videos_people(videos, lambda d, t: prog.update(task, completed=d, total=t))
            for v, s in zip(videos, seen):
                console.print(f"{v}: {len(s.ids)} people followed in {len(s.frames)} frames", soft_wrap=True)
        task = prog.add_task("tracking people", total=1)
        progress = lambda done, total: prog.update(task, completed=done, total=total)  # noqa: E731
        res = triangulate_people(multi, rig, job, progress) if videos else run_people(job, progress)
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
    from ..io.calibration import read_calibration
    from ..io.offsets import offsets_path, write_offsets
    from ..triangulate.sync import synchronise

    console = _console(args)
    rig = read_calibration(args.calib)
    if bool(args.keypoints) == bool(args.videos):
        raise MocapError("give --keypoints (OpenPose JSON folders) or --videos, one per camera")
    if args.reference and args.reference not in rig.names:
        raise MocapError(f"no camera {args.reference!r} in the calibration ({', '.join(rig.names)})", args.calib)
    ref = rig.names.index(args.reference) if args.reference else 0
    views, fps, notes = _sync_views(console, args, rig)
    with console.status("timing the cameras"):
        res = synchronise(views, rig, fps, args.method, ref, args.max_offset)
    out = args.output or offsets_path(args.calib)
    write_offsets(res.to_dict(), out)
    table = Table(title=f"time offsets to {res.reference} ({res.method})", title_justify="left")
    for col in ("camera", "offset (frames)", "offset (ms)", "confidence"):
        table.add_column(col, justify="left" if col == "camera" else "right")
    for n, o, f, c in zip(res.cameras, res.offsets_s, res.fps, res.confidence):
        table.add_row(n, "-" if o is None else f"{o * f:+.2f}", "-" if o is None else f"{1000 * o:+.1f}", f"{c:.2f}")
    console.print(table)
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    for w in res.warnings:
        console.print(f"[yellow]warning:[/] {w}", soft_wrap=True)
    console.print(f"wrote {out}: use it with mocap triangulate --sync {out}", soft_wrap=True)
    return 0


def _sync_views(console, args, rig):
    """Per camera ``(T_c, P, J, 3)`` detections, frame rates and notes, from JSON folders or from videos (everyone
    detected; frame times read from the container: dropped frames are reported)."""
    if args.keypoints:
        from ..io.keypoints import keypoint_folders, read_openpose_folders

        folders = keypoint_folders(args.keypoints)
        rig.require_views(len(folders), "keypoint folders", args.calib)
        multi = read_openpose_folders(folders, args.skeleton, args.fps, unequal=True)
        return list(multi.data), [args.fps] * len(rig), []
    from ..detect.tracking import track_video
    from ..io.video import dropped_frames, frame_times

    rig.require_views(len(args.videos), "videos", args.calib)
    views, fps, notes = [], [], []
    with _progress(console) as prog:
        for v in args.videos:
            task = prog.add_task(f"detecting people in {v}", total=1)
            seen = track_video(v, progress=lambda d, t: prog.update(task, completed=d, total=t))
            views.append(seen.keypoints)
            fps.append(seen.fps)
            gaps = dropped_frames(frame_times(v), seen.fps)
            if gaps:
                notes.append(f"{v}: {sum(n for _, n in gaps)} frames missing in {len(gaps)} places by the container's "
                             f"timestamps (first before frame {gaps[0][0]}): offsets hold for the frames before it")
    return views, fps, notes


def add_commands(sub) -> None:
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
    add_contacts_option(t, "with --smooth: ")
    t.add_argument("--people", default="1", help="'all': everyone, one file each (out_p1.trc, out_p2.trc, ... IDs "
                   "by first appearance); N: the N most present; default 1: the most present person, to -o itself")
    t.add_argument("--one-file", action="store_true", help="with --people: all people in one .npz (positions K x T x J x 3)")
    t.add_argument("--report", help="write a picture of reprojection error and bone lengths over time (.png)")
    t.add_argument("--sync", default=None, metavar="auto|FILE",
                   help="unsynchronised cameras: 'auto' finds each camera's time offset from the people in view, or "
                        "give the offsets file `mocap sync` wrote")
    t.add_argument("--sync-method", choices=["geometric", "motion"], default="geometric",
                   help="with --sync auto: agreement of the views (default) or motion correlation (no calibration needed)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress or tables")
    t.set_defaults(func=cmd_triangulate)

    sy = sub.add_parser("sync", help="each camera's time offset (sub-frame) to a reference camera, from the people in view")
    sy.add_argument("--calib", required=True, help="calibration (the geometric method uses it; names the cameras)")
    sy.add_argument("--keypoints", nargs="+", help="OpenPose JSON folders, one per camera (or their parent)")
    sy.add_argument("--videos", nargs="+", help="or the videos, one per camera (everyone detected; frame rates and "
                                                "dropped frames from the files)")
    sy.add_argument("-o", "--output", default=None, help="offsets .toml (default: <calibration>_offsets.toml beside it)")
    sy.add_argument("--fps", type=float, default=30.0, help="frame rate of the keypoints (default 30)")
    sy.add_argument("--method", choices=["geometric", "motion"], default="geometric",
                    help="geometric: the offsets that make the views agree (default); motion: correlate the main "
                         "person's vertical speed (no calibration needed; one person)")
    sy.add_argument("--reference", default=None, help="camera whose clock the others follow (default: the first)")
    sy.add_argument("--max-offset", type=float, default=2.0, help="largest offset searched, s (default 2)")
    sy.add_argument("--skeleton", default=None)
    sy.add_argument("-q", "--quiet", action="store_true")
    sy.set_defaults(func=cmd_sync)
