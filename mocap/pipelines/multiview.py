"""End-to-end jobs used by the CLI and the API: load inputs, run stages, write outputs."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from ..core.camera import CameraRig
from ..core.hands import limit_hands
from ..core.keypoints import Keypoints2D
from ..associate.tracks import PeopleTracks, TrackingOptions, select_person, track_people
from ..errors import MocapError
from ..io.calibration import read_calibration
from ..io.keypoints import MultiPersonKeypoints, read_views
from ..io.motion import write_people_npz
from .convert import write_any
from .options import TriangulationJob
from ..triangulate import TriangulationResult, mean_inlier_error, triangulate, triangulate_pose2sim
from ..triangulate.result import block_errors
from ..triangulate.sync import timing_notes
from ..workers import aside, blocks, ordered_map, processes, threads


def _inputs(job: TriangulationJob) -> tuple[CameraRig, MultiPersonKeypoints, list[str]]:
    rig = read_calibration(job.calib)
    multi = read_views(job.keypoints, job.skeleton, job.fps, unequal=bool(job.sync))
    if len(multi.data) != len(rig):
        raise MocapError(f"{len(multi.data)} cameras of keypoints ({', '.join(multi.camera_names)}) but "
                         f"{len(rig)} cameras in the calibration", job.calib)
    multi, notes = in_calibration_order(multi, rig)
    notes = multi.notes + notes
    if job.sync:
        multi, res = synchronised(multi, rig, job.sync, job.sync_method)
        notes.append("time offsets (" + ("found from the people in view" if job.sync == "auto" else job.sync) + "): "
                     + ", ".join(f"{n} {'-' if o is None else f'{o:+.2f} frames'}"
                                 for n, o in zip(res.cameras, res.offsets_frames)))
        notes += res.warnings
    return rig, multi, notes


def in_calibration_order(multi: MultiPersonKeypoints, rig: CameraRig) -> tuple[MultiPersonKeypoints, list[str]]:
    """``multi``'s cameras in the calibration's order when they carry the calibration's names in another order (a
    file holding every camera; names compared without case and punctuation: ``cam01`` is ``cam_01``); otherwise as
    given (folders and files are taken in the calibration's order)."""
    key = lambda n: re.sub(r"[^0-9a-z]", "", str(n).lower())  # noqa: E731
    names, want = [key(n) for n in multi.camera_names], [key(n) for n in rig.names]
    if sorted(names) != sorted(want) or names == want or len(set(names)) < len(names):
        return multi, []
    order = [names.index(n) for n in want]
    return replace(multi, data=multi.data[order], camera_names=[multi.camera_names[c] for c in order]), \
        ["the keypoints' cameras put in the calibration's order by name: " + ", ".join(rig.names)]


def synchronised(multi: MultiPersonKeypoints, rig: CameraRig, sync: str, method: str = "geometric"):
    """``multi`` with every camera on the reference camera's clock (:func:`mocap.triangulate.sync.apply_offsets`):
    offsets found from the people in view (``sync="auto"``) or read from an offsets file. Returns the shifted
    keypoints and the :class:`~mocap.triangulate.sync.SyncResult` (its warnings name cameras left out)."""
    from ..io.offsets import read_offsets
    from ..triangulate.sync import SyncResult, apply_offsets, synchronise

    data = list(multi.data)
    if sync == "auto":
        res = synchronise(data, rig, [multi.fps] * len(data), method)
    else:
        res = SyncResult.from_dict(read_offsets(sync), rig.names)
    return replace(multi, data=apply_offsets(data, res)), res


AUTO_FRAMES = 10_000  # job.workers 0: a recording this long is worth starting processes for (about 1 s)


def warm_up() -> None:
    """Import what the pieces of a triangulation run (a new process' first piece would wait for it)."""
    from ..smooth import windows  # noqa: F401
    from ..triangulate import robust  # noqa: F401


@contextmanager
def job_executor(job: TriangulationJob, frames: int, executor=None):
    """``executor`` when given; else the processes ``job.workers`` asks for (:func:`mocap.workers.processes`, one
    math-library thread each; 0: one per CPU this process may use, :func:`mocap.workers.threads`, for a recording of
    :data:`AUTO_FRAMES` frames or more), or None (this process' threads)."""
    n = job.workers or (threads() if frames >= AUTO_FRAMES else 1)
    if executor is not None or n < 2:
        yield executor
        return
    with processes(n, threads_each=1, warm=warm_up) as pool:
        yield pool


def run_triangulation(job: TriangulationJob, progress=None, executor=None, *, picture=None) -> TriangulationResult:
    """Read calibration + keypoints, pick one person, then :func:`triangulate_job` (``executor``: where its pieces
    of time run, see :mod:`mocap.workers`, by default as ``job.workers`` says: :func:`job_executor`; ``picture``: a
    PNG of its quality over time to draw too)."""
    rig, multi, notes = _inputs(job)
    if multi.data.shape[2] > 1:
        kp, report = select_person(multi.data, rig, multi.skeleton, multi.fps, camera_names=multi.camera_names, frames=multi.frames)
        notes.append(f"{report['multi_person_views']} views held several people: kept the one consistent "
                     f"across cameras; {report['dropped']} views had no consistent person and were skipped")
    else:
        kp = multi.single()
    with job_executor(job, kp.n_frames, executor) as executor:
        res = triangulate_job(kp, rig, job, progress, executor=executor, picture=picture)
    return replace(res, notes=notes + res.notes)


def triangulate_job(kp: Keypoints2D, rig: CameraRig, job: TriangulationJob, progress=None,
                    *, span: slice = slice(None), who: str = "the person", executor=None,
                    picture=None) -> TriangulationResult:
    """Triangulate ``kp`` as ``job`` says (mode, refinement, smoothing), note what was left empty (within the
    frames of ``span``: a person's time in view) and what the plausibility checks found (naming ``who``), and
    write ``job.output`` atomically (any 3D format; BVH retargeted to ``job.rig``) and the ``picture`` of its quality
    (:func:`write_results`). The blocks of frames and the windows of smoothing go to ``executor``
    (:mod:`mocap.workers`: threads by default; the same answer)."""
    rig.require_views(kp.n_cameras, "cameras of keypoints", job.calib)
    check_views(rig, job.calib)
    if job.mode == "pose2sim":
        res = triangulate_pose2sim(kp, rig, likelihood_threshold=job.min_confidence,
                                   reproj_threshold=job.threshold_px or 15.0)
    elif job.mode == "robust":
        res = triangulate(kp, rig, min_confidence=job.min_confidence, threshold_px=job.threshold_px,
                          refine=job.refine, progress=progress, executor=executor)
    else:
        raise MocapError(f"unknown triangulation mode {job.mode!r} (robust or pose2sim)")
    res.notes += plausibility_notes(res, who)
    k = len(res.notes)
    with aside(executor) as beside:  # a long recording: its timing check runs while the windows are refined
        timing = None if job.sync else beside.submit(timing_notes, res.view_errors, kp.xy, res.observed, rig.names)
        if job.smooth:
            res = refine_triangulation(res, kp, rig, contacts=job.contacts == "auto", executor=executor)
        res.notes[k:k] = timing.result() if timing else []  # errors that grow with speed in one camera: timing
    if not res.motion.valid.any():
        seen = ((kp.confidence >= job.min_confidence) & (kp.confidence > 0)).any(-1)  # (C, T)
        usable = int((seen.sum(0) >= 2).sum())
        raise MocapError(f"no point could be triangulated ({usable} of {kp.n_frames} frames have a detection at "
                         f"confidence >= {job.min_confidence:g} in 2 or more views); nothing written",
                         job.keypoints[0] if job.keypoints else job.calib)
    valid = res.motion.valid[span]
    missing = int((~valid).sum())
    if missing:
        res.notes.append(f"{missing} of {valid.size} points had fewer than 2 consistent views and are left empty")
    write_results(res, job, picture=picture, executor=executor)
    return res


def write_results(res: TriangulationResult, job: TriangulationJob, *, picture=None, executor=None) -> None:
    """``job.output`` (when set; its lines formatted by the workers of ``executor``) and, with ``picture``,
    :func:`~mocap.viz.plots.plot_triangulation` of ``res``, drawn by a thread of this process meanwhile when there are
    workers (both take seconds on long recordings; the writing mostly waits for the workers)."""
    from ..viz.plots import plot_triangulation

    with ThreadPoolExecutor(1) as thread:
        drawn = thread.submit(plot_triangulation, res, picture) if executor and picture else None
        if job.output:
            write_any(res.motion, job.output, job.rig, executor=executor)
        if drawn:
            drawn.result()
        elif picture:
            plot_triangulation(res, picture)


def triangulate_videos(videos: list[str | Path], job: TriangulationJob, detecting=None, tracking=None):
    """``mocap triangulate --videos``: each camera's video detected with the built-in detector (frames matched by
    index: synchronised cameras), then triangulated as ``job`` says (:func:`triangulate_job`, or
    :func:`triangulate_people` when ``job.tracks_people``). ``detecting`` / ``tracking`` are ``progress(done,
    total)`` callbacks. Returns the result and one line per video on what was detected."""
    from .detect import detect_videos, detect_videos_people

    if job.sync:
        raise MocapError("--sync works with --keypoints (run `mocap detect` on each video first)")
    rig = read_calibration(job.calib)
    rig.require_views(len(videos), "videos", job.calib)
    if job.tracks_people:
        multi, seen = detect_videos_people(videos, detecting)
        lines = [f"{v}: {len(s.ids)} people followed in {len(s.frames)} frames" for v, s in zip(videos, seen)]
        return triangulate_people(multi, rig, job, tracking), lines
    kp, dets = detect_videos(videos, detecting)
    lines = [f"{v}: person detected in {100 * (1 - len(d.missing_frames) / max(1, d.keypoints.n_frames)):.1f} % of "
             f"{d.keypoints.n_frames} frames" for v, d in zip(videos, dets)]
    return triangulate_job(kp, rig, job), lines


def plausibility_notes(res: TriangulationResult, who: str = "the person") -> list[str]:
    """What the skeleton and time checks did (points re-triangulated or left empty, the joints most concerned),
    and frames where most of ``who``'s bones break their lengths (:func:`~mocap.triangulate.plausible.implausible_frames`:
    two people mixed into one, or a wrong calibration), named so that nobody takes them for motion."""
    from ..smooth.gaps import gap_runs
    from ..triangulate.plausible import implausible_frames

    c, notes = res.checks, []
    if not c:
        return notes
    names = res.motion.names
    moved, rejected = c["retriangulated"], c["rejected"]
    if moved.sum() or rejected.sum():
        top = np.argsort(-(moved + rejected), kind="stable")[:3]
        notes.append(f"skeleton and time checks: {int(moved.sum())} point(s) re-triangulated from other cameras, "
                     f"{int(rejected.sum())} left empty (views that agreed by chance with nothing to back them); most: "
                     + ", ".join(f"{names[j]} {int(moved[j] + rejected[j])}" for j in top if moved[j] + rejected[j]))
    if len(c["lengths"]):
        bad = implausible_frames(res.motion.positions, res.motion.skeleton.bone_indices, c["lengths"])
        seen = int(res.motion.valid.any(-1).sum())
        if bad.sum() >= max(3, 0.05 * seen):
            runs = []
            for a, b in gap_runs(bad):  # runs less than a second apart read as one
                if runs and a - runs[-1][1] < res.motion.fps:
                    runs[-1] = (runs[-1][0], b)
                else:
                    runs.append((a, b))
            where = ", ".join(f"{a}-{b - 1}" if b - a > 1 else f"{a}" for a, b in runs[:6]) + (" ..." if len(runs) > 6 else "")
            notes.append(f"{who}: most bones break their lengths in {int(bad.sum())} of {seen} frames (frames {where}): "
                         "two people mixed into one, or a wrong calibration? Check each camera's view of them")
    return notes


def check_views(rig: CameraRig, where=None) -> None:
    """Triangulation needs two cameras some distance apart: one camera, or cameras all at the same place (a
    calibration copied for every camera), is an error naming the calibration."""
    if len(rig) < 2:
        raise MocapError(f"triangulation needs 2 or more cameras, the calibration has {len(rig)} "
                         "(one camera: mocap lift or video2bvh)", where)
    centres = np.array([c.center for c in rig])
    if np.linalg.norm(centres[:, None] - centres[None], axis=-1).max() < 0.01:
        raise MocapError("all cameras are at the same place (no baseline, no depth): is the same camera copied "
                         "for every view?", where)


def refine_triangulation(res: TriangulationResult, kp: Keypoints2D, rig: CameraRig, contacts: bool = True,
                         *, executor=None) -> TriangulationResult:
    """A new result: ``res`` refined over the whole sequence, in overlapping windows when long
    (:func:`~mocap.smooth.windows.refine_in_windows`; reprojection of the inlier views +
    smoothness + constant rigid bones, :func:`mocap.smooth.refine.refine`; with ``contacts``, planted feet held
    along the floor; the windows on ``executor``), with its errors recomputed, the before/after quality and notes on filled gaps and contacts.
    ``res`` is left as it was."""
    from ..smooth.metrics import bone_length_cv, jitter
    from ..smooth.refine import Planting, refined_confidence
    from ..smooth.windows import refine_in_windows

    bones = res.motion.skeleton.rigid_bone_indices
    before = res.motion.positions
    pieces = blocks(kp.n_frames, 4096)
    xy = np.concatenate(list(ordered_map(rig.undistort, (kp.xy[:, b] for b in pieces), executor)), axis=1)
    w = np.where(res.inliers, kp.confidence, 0.0)
    feet = res.motion.foot_joints if contacts else None
    r = refine_in_windows(before, bones, kp.fps, views=(xy, w, rig.extrinsics, rig.focals),
                          plant=Planting(tuple(feet), (0.0, 0.0, 1.0)) if feet else None, executor=executor)
    quality = {"jitter": (jitter(before, kp.fps), jitter(r.positions, kp.fps)),
               "bone_cv": (float(np.nanmean(bone_length_cv(before, bones))),
                           float(np.nanmean(bone_length_cv(r.positions, bones)))),
               "bones": (r.bone_lengths, r.bone_frames)}
    notes = list(res.notes)
    if r.filled.any():
        notes.append(f"refinement filled {int(r.filled.sum())} missing points (gaps up to 0.5 s across which the joint "
                     "moves little enough to bridge; the others stay empty)")
    if r.empty_joints:
        names = ", ".join(res.motion.names[j] for j in r.empty_joints)
        notes.append(f"never seen by 2 consistent views, left empty: {names}")
    if r.contacts is not None:
        quality["contacts"] = contact_report(before, r.positions, feet, r.contacts, floor=r.floor, names=res.motion.names)
        notes.append(quality["contacts"]["note"])
    positions, limited = limit_hands(r.positions, res.motion.names)  # finger hinges within range (hands only)
    notes += [limited] if limited else []
    view_errors = np.concatenate(list(ordered_map(partial(block_errors, rig=rig),
                                                  ((positions[b], kp.xy[:, b]) for b in pieces), executor)), axis=1)
    motion = replace(res.motion, positions=positions, confidence=refined_confidence(positions, res.motion.confidence),
                     contacts=joint_contacts(r.contacts, feet, res.inliers.shape[2]))
    return replace(res, motion=motion, view_errors=view_errors, reprojection_error=mean_inlier_error(view_errors, res.inliers),
                   method=res.method + "+refined", notes=notes, quality=quality)


def joint_contacts(contacts, feet, J: int):
    """``contacts (T, F)`` of the joints ``feet (F,)`` -> ``(T, J)`` (False elsewhere); None stays None."""
    if contacts is None:
        return None
    out = np.zeros((len(contacts), J), bool)
    out[:, feet] = contacts
    return out


def contact_report(before, after, feet, contacts, *, floor, names, up: int = 2) -> dict:
    """What planting the feet did: ``feet`` names, ``contacts (T, F)``, the ``floor`` (normal, offset), each foot
    joint's share of frames in contact and its slide along the floor in them (mm per frame, median) before and after,
    and a one-line ``note``; ``up``: the vertical axis (tilt of the floor from it)."""
    from ..smooth.contacts import foot_slide

    slide0 = foot_slide(before[:, feet], contacts, floor) * 1000
    slide1 = foot_slide(after[:, feet], contacts, floor) * 1000
    share = 100 * contacts.mean(0)
    tilt = float(np.degrees(np.arccos(np.clip(abs(floor[0][up]), -1, 1))))
    fmt = lambda a: "-" if not np.isfinite(a).any() else f"{np.nanmedian(a):.1f}"  # noqa: E731
    note = (f"planted feet held along the floor: in contact {', '.join(f'{names[j]} {p:.0f} %' for j, p in zip(feet, share))} "
            f"of frames; slide {fmt(slide0)} -> {fmt(slide1)} mm per frame (median over the foot joints); floor at "
            f"{1000 * floor[1]:+.0f} mm, tilted {tilt:.1f} deg")
    return {"feet": [names[j] for j in feet], "contacts": contacts, "floor": floor, "share_pct": share,
            "slide_mm": (slide0, slide1), "tilt_deg": tilt, "note": note}


@dataclass
class PersonResult:
    """One tracked person: ``id`` (1-based, by first appearance), ``result`` (their triangulation),
    ``output`` (the file written for them, or None), ``frames`` present (seen by >= 2 views), ``first`` and
    ``last`` of those frames (indices)."""

    id: int
    result: TriangulationResult
    output: Path | None
    frames: int
    first: int
    last: int


@dataclass
class PeopleResult:
    """Everyone :func:`run_people` kept, the tracks they came from, and notes (what was dropped)."""

    people: list[PersonResult]
    tracks: PeopleTracks
    notes: list[str]


def person_path(output: str | Path, pid: int) -> Path:
    """``out.trc`` -> ``out_p1.trc`` for person 1 (same folder, same format)."""
    output = Path(output)
    return output.with_name(f"{output.stem}_p{pid}{output.suffix}")


def run_people(job: TriangulationJob, progress=None, executor=None) -> PeopleResult:
    """Read calibration + keypoints, then :func:`triangulate_people`."""
    rig, multi, notes = _inputs(job)
    with job_executor(job, multi.data.shape[1], executor) as executor:
        res = triangulate_people(multi, rig, job, progress, executor=executor)
    return replace(res, notes=notes + res.notes)


def triangulate_people(multi: MultiPersonKeypoints, rig: CameraRig, job: TriangulationJob, progress=None,
                       *, executor=None) -> PeopleResult:
    """The people ``job.people`` keeps (:class:`~mocap.core.people.People`: everyone, the N most present or one
    ID), each triangulated (and refined) as ``job`` says (their pieces of time on ``executor``). Outputs are written only once everyone is done: one file
    per person (:func:`person_path`; one person by ID: ``job.output`` itself), or with ``job.one_file`` one
    multi-person NPZ. Raises :class:`MocapError`
    when nobody is seen in two views for long enough (nothing is written then)."""
    if job.one_file and job.output and Path(job.output).suffix.lower() != ".npz":
        raise MocapError("one file for several people is a .npz", job.output)
    tracks = track_people(multi.data, rig, multi.skeleton, multi.fps, options=TrackingOptions(min_confidence=min(0.2, job.min_confidence)),
                          progress=progress)
    if not len(tracks.ids):
        raise MocapError(f"nobody was seen in 2 views for {tracks.report['min_frames']} frames or more",
                         multi.sources[0] if multi.sources else None)
    wanted = job.people.pick(tracks.ids, tracks.present.sum(-1))  # by first appearance
    single = replace(job, output=None)
    people = []
    for k in wanted:
        kp = Keypoints2D(tracks.keypoints(multi.data, k), multi.skeleton, multi.fps, multi.camera_names, multi.frames)
        seen = np.flatnonzero(tracks.present[k])
        res = triangulate_job(kp, rig, single, span=slice(seen[0], seen[-1] + 1), who=f"person {int(tracks.ids[k])}",
                              executor=executor)
        out = None if not job.output or job.one_file else Path(job.output) if job.people.id is not None else \
            person_path(job.output, int(tracks.ids[k]))
        people.append(PersonResult(int(tracks.ids[k]), res, out, len(seen), int(seen[0]), int(seen[-1])))
    for p in people:
        if p.output:
            write_any(p.result.motion, p.output, job.rig)
    if job.output and job.one_file:
        write_people_npz([p.result.motion for p in people], [p.id for p in people], job.output)
    return PeopleResult(people, tracks, people_notes(tracks.report, len(tracks.ids) - len(people)))


def people_notes(report: dict, left_out: int) -> list[str]:
    """What a user should know about a tracking ``report`` (see :func:`~mocap.associate.tracks.track_people`)."""
    notes = []
    if report["dropped_tracks"]:
        notes.append(f"{report['dropped_tracks']} short tracks (ghosts or fragments, {report['dropped_frames']} "
                     f"person-frames, under {report['min_frames']} frames each) were dropped")
    if report["reidentified"]:
        notes.append(f"{report['reidentified']} times someone came back and kept their ID")
    if report["unassigned"]:
        notes.append(f"{report['unassigned']} detections matched nobody seen in 2 views (false, partial or "
                     f"single-view detections) and were left out")
    if report["few_joints"]:
        notes.append(f"{report['few_joints']} detections had fewer than 3 usable joints and were ignored")
    if left_out:
        notes.append(f"{left_out} less present people not written (--people all writes everyone)")
    return notes
