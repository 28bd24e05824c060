"""``mocap detect`` and ``mocap video2bvh``: one video -> 2D keypoints, or -> an animated BVH."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console

from ..errors import MocapError
from .common import _console, _progress, add_contacts_option


def cmd_detect(args) -> int:
    from ..detect.detector import person_detection
    from ..detect.tracking import track_video
    from ..io.keypoints import write_keypoints, write_openpose_people, write_people_npz
    from ..pipelines.monocular import tracking_notes

    from ..io.atomic import check_output

    console = _console(args)
    out = Path(args.output)
    if out.suffix:
        check_output(out, args.video)
    if args.max_people < 1:
        raise MocapError(f"--max-people must be >= 1, not {args.max_people}")
    if out.suffix.lower() not in (".npz", ".csv", ""):
        raise MocapError("keypoints are written as .npz, .csv or an OpenPose JSON folder (no suffix)", out)
    with _progress(console) as prog:
        task = prog.add_task("detecting people", total=1)
        seen = track_video(args.video, stride=args.stride, resize=args.resize, start=args.start, end=args.end,
                           progress=lambda d, t: prog.update(task, completed=d, total=t), max_people=args.max_people)
    det = person_detection(seen)  # nobody followed: one clear error, nothing written
    sk, stem = det.keypoints.skeleton, Path(args.video).stem
    if out.suffix.lower() == ".npz":
        write_people_npz(seen.keypoints, seen.ids, sk, fps=seen.fps, frames=seen.frames, path=out, camera=stem,
                         world=seen.world)
    elif out.suffix.lower() == ".csv":
        write_keypoints(det.keypoints, out)
        if len(seen.ids) > 1:
            console.print(f"[yellow]note:[/] a CSV holds one person: p{det.person} (the most present) written; "
                          ".npz or a folder holds everyone", soft_wrap=True)
    else:
        write_openpose_people(seen.keypoints[None], [stem], seen.frames, out, seen.ids)
    T = len(seen.frames)
    for note in tracking_notes(seen):
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    counts = seen.present().sum(0)
    console.print(f"wrote {out}: {T} frames at {seen.fps:g} fps, {len(seen.ids)} "
                  f"{'person' if len(seen.ids) == 1 else 'people'} (" + ", ".join(
                      f"p{i}: {100 * n / max(T, 1):.1f} %" for i, n in zip(seen.ids, counts)) + " of frames)",
                  soft_wrap=True)
    return 0


def cmd_video2bvh(args) -> int:
    people, person = _which(args.people)
    _video_to_bvh(_console(args), args.video, args.output, rig=args.rig, preview=args.preview, stride=args.stride,
                  resize=args.resize, method=args.method, focal=args.focal, people=people, person=person,
                  contacts=args.contacts == "auto", report=args.report)
    return 0


def _which(value: str | None) -> tuple[str | None, int | None]:
    """``--people``: None (the most present person), ``all``, or one ID."""
    if value is None:
        return None, None
    if value == "all":
        return "all", None
    if value.isdigit() and int(value) >= 1:
        return None, int(value)
    raise MocapError(f"--people takes 'all' or a person ID >= 1 (see mocap detect's table), not {value!r}")


def _video_to_bvh(console: Console, video, output, rig: str, preview=None, stride: int = 1, resize=None,
                  method: str = "lifter", focal=None, people=None, person=None, contacts: bool = True,
                  report=None) -> None:
    from ..pipelines.monocular import video_to_bvh
    from .lift import report_motion

    with _progress(console) as prog:
        task = prog.add_task("detecting people", total=1)
        res = video_to_bvh(video, output, rig=rig, preview=preview, stride=stride, resize=resize,
                           progress=lambda d, t: prog.update(task, completed=d, total=t), method=method, focal=focal,
                           people=people, person=person, contacts=contacts)
    for note in res.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    names = ", ".join(f"{p.name} (p{i})" for i, p in res.outputs)
    console.print(f"wrote {names}: rig {rig}, {res.animation.local.shape[0]} frames at "
                  f"{res.animation.fps:g} fps, cm, Y-up" + (f"; preview {preview}" if preview else ""),
                  soft_wrap=True)
    report_motion(console, res.person.motion, report)


def add_commands(sub) -> None:
    de = sub.add_parser("detect", help="every person's 2D keypoints from a video, with IDs (BlazePose, bundled models, offline)")
    de.add_argument("video")
    de.add_argument("-o", "--output", required=True,
                    help="keypoints .npz (everyone: (T, P, J, 3) + IDs), .csv (the most present person), or a folder "
                         "for OpenPose JSON (everyone, person_id filled)")
    de.add_argument("--max-people", type=int, default=8, help="people followed at once (default 8)")
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
    vb.add_argument("--people", "--person", dest="people", default=None, metavar="all|ID",
                    help="'all': one BVH per person (out_p1.bvh, ...); an ID: that person; default the most present")
    vb.add_argument("--preview", default=None, help="write a side-by-side preview MP4")
    vb.add_argument("--method", choices=["lifter", "world"], default="lifter",
                    help="3D from our learned lifter (default: pose and root trajectory) or MediaPipe's "
                         "hip-centred world landmarks")
    vb.add_argument("--focal", type=float, default=None, help="camera focal length, px (lifter; default: larger image side)")
    vb.add_argument("--stride", type=int, default=1)
    vb.add_argument("--resize", type=float, default=None)
    add_contacts_option(vb)
    vb.add_argument("--report", default=None,
                    help="write a PNG of the (first) person's feet over time and when they are planted")
    vb.add_argument("-q", "--quiet", action="store_true")
    vb.set_defaults(func=cmd_video2bvh)
