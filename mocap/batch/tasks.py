"""One task per trial and stage: what it reads, the hash that says whether it is done, and the work itself
(:func:`run_task`, run in a worker process: local pool or Ray).

Every task writes its outputs atomically into the trial's output folder, then a record
``<output>/.mocap/<stage>.json`` holding the hash of its inputs (file contents) and options, its outputs and
quality numbers. A task whose record has the same hash and whose outputs all exist is up to date.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import traceback
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MocapError
from ..io.atomic import atomic_open
from .session import Session, Trial
from .split import executor_for

RECORDS = ".mocap"


@dataclass
class Task:
    """``stage`` of ``trial``, after the tasks ``deps`` (ids ``"trial:stage"``)."""

    trial: Trial
    stage: str
    deps: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.trial.name}:{self.stage}"


def plan(session: Session) -> list[Task]:
    """The chain of tasks of every runnable trial, in session order: detect (trials with videos and no
    keypoints) -> sync -> triangulate (several cameras) or lift (one) -> retarget -> preview, as far as
    ``batch.stages`` asks."""
    tasks = []
    for trial in session.trials:
        if trial.error:
            continue
        stages = trial.options["batch"]["stages"]
        chain = []
        if trial.videos and not trial.keypoints:
            if "detect" not in stages:
                trial.error = "has videos only: add detect to batch.stages"
                continue
            chain.append("detect")
        if trial.cameras > 1:
            chain += [s for s in ("sync", "triangulate") if s in stages]
        else:
            chain += ["lift"] if "lift" in stages else []
        chain += [s for s in ("retarget", "preview") if s in stages and chain and chain[-1] in ("triangulate", "lift", "retarget")]
        prev = None
        for stage in chain:
            tasks.append(Task(trial, stage, [f"{trial.name}:{prev}"] if prev else []))
            prev = stage
    return tasks


def record_path(trial: Trial, stage: str) -> Path:
    return trial.output / RECORDS / f"{stage}.json"


def read_record(trial: Trial, stage: str) -> dict | None:
    """The record of ``stage`` from an earlier run, its outputs as absolute paths (stored relative to the
    trial's output folder, so a session folder can be moved or copied without redoing it)."""
    try:
        record = json.loads(record_path(trial, stage).read_text())
        record["outputs"] = [str(trial.output / p) for p in record["outputs"]]
        return record
    except (OSError, ValueError, KeyError, TypeError):
        return None


def task_spec(task: Task, upstream: dict[str, dict]) -> dict:
    """Everything a worker needs, as plain data, with the hash of its inputs and options. ``upstream`` maps
    the stage names of finished tasks of the same trial to their records."""
    t, opts = task.trial, task.trial.options
    stem, out = t.stem, t.output
    if task.stage == "detect":
        inputs = {"videos": t.videos}
        options = {"monocular": t.cameras == 1}
    elif task.stage in ("sync", "triangulate"):
        keypoints = [Path(p) for p in upstream["detect"]["outputs"]] if "detect" in upstream else t.keypoints
        inputs = {"calib": [t.calib], "keypoints": keypoints}
        options = dict(opts[task.stage])
        if task.stage == "triangulate":
            if "sync" in upstream:
                inputs["offsets"] = [Path(upstream["sync"]["outputs"][0])]
        options["fps"] = upstream["detect"]["quality"]["fps"] if "detect" in upstream else opts["batch"]["fps"]
        options["skeleton"] = opts["batch"]["skeleton"]
    elif task.stage == "lift":
        inputs = {"keypoints": [Path(upstream["detect"]["outputs"][0])] if "detect" in upstream else t.keypoints}
        options = dict(opts["lift"], fps=opts["batch"]["fps"], skeleton=opts["batch"]["skeleton"])
        if "detect" in upstream:
            options.update(fps=upstream["detect"]["quality"]["fps"], image_size=upstream["detect"]["quality"]["image_size"])
    else:  # retarget, preview: the 3D files of the stage before
        before = upstream["triangulate" if "triangulate" in upstream else "lift"]
        inputs = {"motion": [Path(p) for p in before["outputs"]]}
        options = dict(opts[task.stage])
    spec = {"id": task.id, "trial": t.name, "stage": task.stage, "stem": stem, "out": str(out),
            "inputs": {k: [str(p) for p in v] for k, v in inputs.items()}, "options": options}
    spec["hash"] = spec_hash(spec)
    return spec


def spec_hash(spec: dict) -> str:
    """sha256 of the stage, its options, the package version and the contents of every input file (folders:
    every file in them, by relative path)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("mocap-pipeline")
    except PackageNotFoundError:
        ver = "dev"
    h = hashlib.sha256(json.dumps([spec["stage"], spec["options"], ver], sort_keys=True, default=str).encode())
    for key in sorted(spec["inputs"]):
        for p in spec["inputs"][key]:
            h.update(f"\0{key}\0{Path(p).name}\0".encode())
            h.update(content_digest(Path(p)).encode())
    return h.hexdigest()


def content_digest(path: Path) -> str:
    """sha256 of a file's bytes, or of a folder's files (relative path + bytes, sorted); a missing input
    hashes as "missing" (the task then fails with a clear error)."""
    if path.is_file():
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    if not path.is_dir():
        return "missing"
    h = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file() and not q.name.startswith(".")):
        h.update(p.relative_to(path).as_posix().encode() + b"\0")
        with open(p, "rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()


def up_to_date(spec: dict, record: dict | None) -> bool:
    """``record`` (of an earlier run) was made from the same inputs and options, and its outputs are there."""
    return bool(record and record.get("hash") == spec["hash"] and record.get("outputs")
                and all(Path(p).exists() for p in record["outputs"]))


def run_task(spec: dict) -> dict | None:
    """Run one task (in a worker). Returns its record: ``status`` "done" with ``outputs``, ``quality``,
    ``notes`` and ``seconds``, written to the trial's record folder; or "failed" with ``error`` (a
    :class:`MocapError`'s message, or the type, message and place of an unexpected exception); None when a process
    of its pieces died (the driver runs it again, as when its own worker dies)."""
    from .. import runtime

    runtime.quiet_environment()
    t0 = time.perf_counter()
    out = Path(spec["out"])
    try:
        missing = [p for ps in spec["inputs"].values() for p in ps if not Path(p).exists()]
        if missing:
            raise MocapError("input not found", missing[0])
        out.mkdir(parents=True, exist_ok=True)
        with runtime.native_quiet(), executor_for(spec.get("split"), spec["stage"]) as executor:
            result = STAGES[spec["stage"]](spec, out, **({"executor": executor} if executor else {}))
    except MocapError as e:
        return {"id": spec["id"], "status": "failed", "error": str(e), "seconds": time.perf_counter() - t0}
    except BrokenProcessPool:  # a process of a split task's pieces died (killed, out of memory): run it again
        return None
    except Exception as e:  # one trial's bug or bad data never stops the session: report it with its place
        where = traceback.extract_tb(e.__traceback__)[-1]
        return {"id": spec["id"], "status": "failed", "seconds": time.perf_counter() - t0,
                "error": f"{type(e).__name__}: {e} (at {Path(where.filename).name}:{where.lineno})"}
    record = {"id": spec["id"], "status": "done", "hash": spec["hash"], "stage": spec["stage"],
              "outputs": [Path(p).relative_to(out).as_posix() for p in result["outputs"]], "quality": result.get("quality", {}),
              "notes": result.get("notes", []), "seconds": round(time.perf_counter() - t0, 3),
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S"), "worker": os.getpid(),
              "workers": (spec.get("split") or {}).get("workers", 1)}
    with atomic_open(out / RECORDS / f"{spec['stage']}.json") as f:
        json.dump(record, f, indent=1)
    return dict(record, outputs=[str(out / p) for p in record["outputs"]])


def _detect(spec: dict, out: Path) -> dict:
    """The detect job (:mod:`mocap.pipelines.detect`): one camera -> ``<stem>_2d.npz`` (as ``mocap detect``),
    several -> ``pose/<camera>_json`` OpenPose folders (the folder appears whole)."""
    from ..io.video import open_video
    from ..pipelines.detect import detect_cameras, detect_people

    videos = [Path(v) for v in spec["inputs"]["videos"]]
    if spec["options"]["monocular"]:
        res = detect_people(videos[0], out / f"{spec['stem']}_2d.npz")
        outputs, seen = [res.output], [res.seen]
    else:
        outputs, seen = detect_cameras(videos, out / "pose")
    cap, info = open_video(videos[0])
    cap.release()
    quality = {"fps": seen[0].fps, "frames": len(seen[0].frames), "people": [len(s.ids) for s in seen],
               "image_size": [info.width, info.height]}
    return {"outputs": outputs, "quality": quality}


def _sync(spec: dict, out: Path) -> dict:
    """The sync job (:func:`mocap.pipelines.sync.sync_cameras`) -> ``offsets.toml``."""
    from ..pipelines.options import SyncOptions
    from ..pipelines.sync import sync_cameras

    o, inp = spec["options"], spec["inputs"]
    options = SyncOptions(fps=o["fps"], method=o["method"], max_offset=o["max_offset"], skeleton=o["skeleton"])
    res = sync_cameras(inp["calib"][0], keypoints=inp["keypoints"], output=out / "offsets.toml", options=options)
    return {"outputs": [res.output], "notes": res.notes + list(res.result.warnings),
            "quality": {"offsets_frames": [None if x is None else round(x, 3) for x in res.result.offsets_frames]}}


def _triangulate(spec: dict, out: Path, executor=None) -> dict:
    """As ``mocap triangulate`` with the same options: one person -> ``<stem>.trc`` and a picture of its
    quality; ``people`` "all", N or an ID -> ``<stem>_p1.trc``, ... ``executor``: where one person's pieces of time
    run (:mod:`mocap.batch.split`)."""
    from .config import JOB_SECTIONS
    from ..pipelines.options import TriangulationJob
    from ..pipelines.multiview import run_people, run_triangulation

    o, inp = spec["options"], spec["inputs"]
    job = TriangulationJob(inp["calib"][0], inp["keypoints"], out / f"{spec['stem']}.trc", skeleton=o["skeleton"],
                           fps=o["fps"], sync=inp["offsets"][0] if "offsets" in inp else None, workers=1,
                           **{k: o[k] for k in JOB_SECTIONS["triangulate"][1]})
    if job.tracks_people:
        res = run_people(job, executor=executor)
        return {"outputs": [p.output for p in res.people], "notes": res.notes,
                "quality": {"people": len(res.people), "frames": int(res.people[0].result.motion.n_frames),
                            "valid_pct": [round(100 * float(p.result.motion.valid.mean()), 2) for p in res.people]}}
    picture = out / f"{spec['stem']}_quality.png"
    res = run_triangulation(job, executor=executor, picture=picture)
    return {"outputs": [job.output, picture],
            "notes": res.notes, "quality": triangulation_quality(res)}


def triangulation_quality(res) -> dict:
    """The numbers the session summary shows for one triangulated trial."""
    import numpy as np

    q = {"frames": int(res.motion.n_frames), "valid_pct": round(100 * float(res.motion.valid.mean()), 2),
         "reprojection_px": round(float(np.nanmean(res.reprojection_error)), 3)
         if np.isfinite(res.reprojection_error).any() else None}
    if res.quality:
        q["jitter_m_s2"] = round(float(res.quality["jitter"][1]), 3)
        q["bone_cv_pct"] = round(100 * float(res.quality["bone_cv"][1]), 3)
    return q


def _lift(spec: dict, out: Path) -> dict:
    """As ``mocap lift``: one camera's keypoints -> the learned lifter -> ``<stem>.trc``."""
    from ..pipelines.options import LiftOptions
    from ..pipelines.monocular import lift_keypoints

    o, kp = spec["options"], spec["inputs"]["keypoints"][0]
    if not o["image_size"]:
        raise MocapError("lifting keypoints needs the image size: set lift.image_size = [width, height]", kp)
    path = out / f"{spec['stem']}.trc"
    width, height = (int(round(v)) for v in o["image_size"])
    options = LiftOptions(skeleton=o["skeleton"], fps=o["fps"], focal=o["focal"], width=width, height=height,
                          live=o["live"], contacts=o["contacts"])
    motion, notes = lift_keypoints(kp, path, options)
    quality = {"frames": int(motion.n_frames), "fps": motion.fps}
    if motion.contacts is not None:  # each foot joint's share of frames planted
        quality["planted_pct"] = {n: round(p, 1) for n, p in motion.planted_share().items()}
    return {"outputs": [path], "notes": notes, "quality": quality}


def _retarget(spec: dict, out: Path, executor=None) -> dict:
    """Each 3D file -> an animation on ``rig`` in each of ``formats`` (BVH by default; as ``mocap convert in.trc
    out.bvh --rig``, retargeted once); ``executor``: where a long motion's pieces of time run
    (:mod:`mocap.batch.split`)."""
    from ..pipelines.convert import convert_file
    from ..retarget.export import write_animation

    o, outputs = spec["options"], []
    for p in (Path(p) for p in spec["inputs"]["motion"] if Path(p).suffix.lower() != ".png"):
        first, *more = [out / f"{p.stem}.{f}" for f in o["formats"]]
        anim = convert_file(p, first, rig=o["rig"], units=o["units"], executor=executor)
        outputs += [first] + [write_animation(anim, path, o["units"] or "cm") for path in more]
    return {"outputs": outputs}


def _preview(spec: dict, out: Path) -> dict:
    """An MP4 of the 3D (everyone in the trial, headless open3d render)."""
    from ..io.motion import load_motion
    from ..viz.render import auto_camera, render_video, zup

    motions = [load_motion(p) for p in spec["inputs"]["motion"] if Path(p).suffix.lower() in (".trc", ".npz", ".csv", ".c3d")]
    path = out / f"{spec['stem']}_preview.mp4"
    size = (spec["options"]["width"], spec["options"]["height"])
    render_video(motions, path, auto_camera(zup(motions), size))  # the camera of the Z-up scene it renders
    return {"outputs": [path]}


STAGES = {"detect": _detect, "sync": _sync, "triangulate": _triangulate, "lift": _lift, "retarget": _retarget,
          "preview": _preview}


def sweep_temporaries(folders) -> int:
    """Remove what killed workers left half-written (atomic writes' hidden temp files, detect's temp folders)
    in the given output folders; returns how many. Only call while no task is running."""
    n = 0
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for p in list(folder.glob(".*.tmp*")) + list(folder.glob(f"{RECORDS}/.*.tmp*")):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
            n += 1
    return n
