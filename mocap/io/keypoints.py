"""2D keypoint files: OpenPose JSON folders, COCO-style results JSON, CSV and NPZ.

Readers return *all* detected people: ``(C, T, P, J, 3)`` arrays (x px, y px, confidence; NaN/0
where absent) via :class:`MultiPersonKeypoints`; :func:`mocap.associate.tracks.select_person` reduces
them to one :class:`~mocap.core.keypoints.Keypoints2D`.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import MocapError
from ..core.keypoints import Keypoints2D, sanitize
from ..core.skeletons import (BODY_25, BODY_25B, BODY_25_HANDS, BODY_25B_HANDS, COCO_17, COCO_17_HANDS,
                              COCO_WHOLEBODY_133, HALPE_26, HALPE_26_HANDS, HALPE_136, HAND_LAYOUTS, MEDIAPIPE_33,
                              MEDIAPIPE_33_HANDS, Skeleton, get_skeleton)
from .atomic import atomic_open, atomic_path
from .calibration import natural_key
from .guard import reader

_BY_COUNT = {17: COCO_17, 26: HALPE_26, 33: MEDIAPIPE_33, 133: COCO_WHOLEBODY_133, 136: HALPE_136}
# a body layout -> the same with OpenPose's hand arrays after it
_WITH_HANDS = {BODY_25: BODY_25_HANDS, BODY_25B: BODY_25B_HANDS, COCO_17: COCO_17_HANDS, HALPE_26: HALPE_26_HANDS,
               MEDIAPIPE_33: MEDIAPIPE_33_HANDS}


@dataclass
class MultiPersonKeypoints:
    """Every detected person: data ``(C, T, P, J, 3)`` = x px, y px, confidence; P = max people."""

    data: np.ndarray
    skeleton: Skeleton
    fps: float
    camera_names: list[str]
    frames: np.ndarray
    sources: list[str]
    ids: np.ndarray | None = None  # (P,) tracked identities when the slots are people (mocap detect's NPZ)
    notes: list[str] = field(default_factory=list)  # what the reader skipped, for the job's report

    def single(self) -> Keypoints2D:
        """The only person (error if any view holds more than one: use ``select_person``)."""
        if self.data.shape[2] > 1 and np.isfinite(self.data[:, :, 1:, :, 0]).any():
            raise MocapError("several people detected; select one with mocap.associate.tracks.select_person",
                             self.sources[0] if self.sources else None)
        return Keypoints2D(self.data[:, :, 0], self.skeleton, self.fps, self.camera_names, self.frames,
                           copy=False)  # the readers cleaned it: a view, not a copy


def _frame_number(name: str) -> int | None:
    nums = re.findall(r"\d+", Path(name).stem)
    return int(nums[-1]) if nums else None


def guess_openpose_skeleton(flat: np.ndarray) -> Skeleton:
    """BODY_25 vs BODY_25B from the data: in BODY_25, joint 8 (MidHip) lies between joints 9 and 12."""
    pts = flat.reshape(-1, 25, 3)
    ok = (pts[:, [8, 9, 12], 2] > 0).all(axis=1)
    if not ok.any():
        return BODY_25B
    p = pts[ok]
    mid = 0.5 * (p[:, 9, :2] + p[:, 12, :2])
    scale = np.linalg.norm(p[:, 9, :2] - p[:, 12, :2], axis=1) + 1e-9
    return BODY_25 if np.median(np.linalg.norm(p[:, 8, :2] - mid, axis=1) / scale) < 0.25 else BODY_25B


@reader("OpenPose JSON folder")
def read_openpose_folders(folders: list[str | Path], skeleton: str | Skeleton | None = None,
                          fps: float = 30.0, camera_names: list[str] | None = None,
                          *, unequal: bool = False) -> MultiPersonKeypoints:
    """One folder of OpenPose JSON files per camera (one file per frame, frame number last in the name).

    Frames are matched across cameras by their number. Files without ``people`` or with a person
    lacking ``pose_keypoints_2d`` are tolerated (no detection). Raises :class:`MocapError` naming the
    folder or file for a missing/empty folder, unreadable JSON, a wrong keypoint count, or cameras
    with different frame counts (unless ``unequal``: unsynchronised cameras, the shorter ones padded).
    """
    folders = [Path(f) for f in folders]
    per_cam: list[dict[int, list[np.ndarray]]] = []
    n_joints = [None, []]  # the keypoint count every person must have (the first file's); files of hands skipped
    for folder in folders:
        if not folder.is_dir():
            raise MocapError("keypoint folder not found", folder)
        files = sorted(folder.glob("*.json"), key=lambda p: natural_key(p.name))
        if not files:
            raise MocapError("no .json keypoint file in folder", folder)
        frames: dict[int, list[np.ndarray]] = {}
        for i, f in enumerate(files):
            num = _frame_number(f.name)
            frames[i if num is None else num] = _openpose_people(f, n_joints)
        per_cam.append(frames)
    body_joints, skipped = n_joints
    hands = any(len(arr) > body_joints for f in per_cam for people in f.values() for arr in people) \
        if body_joints is not None else False
    n_joints = body_joints + 2 * HAND_POINTS if hands else body_joints
    if not unequal:
        same_frame_counts([len(f) for f in per_cam], folders)
    if n_joints is None:
        raise MocapError("no person detected in any file", folders[0])
    numbers = sorted(set().union(*[f.keys() for f in per_cam]))
    P = max(1, max(len(p) for f in per_cam for p in f.values()))
    data = np.full((len(folders), len(numbers), P, n_joints, 3), np.nan)
    data[..., 2] = 0
    index = {n: i for i, n in enumerate(numbers)}
    for c, frames in enumerate(per_cam):
        for num, people in frames.items():
            for p, arr in enumerate(people):
                data[c, index[num], p, :len(arr)] = arr
    if skeleton is None:
        body = data[..., :body_joints, :]
        skeleton = _BY_COUNT.get(body_joints) or (guess_openpose_skeleton(body[np.isfinite(body[..., 0]).all(-1)])
                                                  if body_joints == 25 else None)
        if skeleton is None:
            raise MocapError(f"cannot tell the skeleton of {body_joints} keypoints: pass one explicitly", folders[0])
        if hands:
            skeleton = _WITH_HANDS[skeleton]
    skeleton = get_skeleton(skeleton)
    if len(skeleton) != n_joints:
        raise MocapError(f"files hold {n_joints} keypoints per person, skeleton {skeleton.name} has {len(skeleton)}",
                         folders[0])
    names = camera_names or [re.sub(r"_json$", "", f.name) for f in folders]
    notes = [f"{len(skipped)} detections with hand keypoints but no body were skipped (the body places the hands "
             f"and tells left from right), first in {skipped[0]}"] if skipped else []
    return MultiPersonKeypoints(sanitize(data, copy=False), skeleton, fps, names, np.array(numbers),
                                [str(f) for f in folders], notes=notes)


def _openpose_people(f: Path, n_joints: list) -> list[np.ndarray]:
    """The people of one OpenPose JSON file as ``(J, 3)`` arrays (``(J + 42, 3)`` with hand arrays: left, then right
    hand); ``n_joints[0]`` is the body keypoint count every person must have (set from the first one seen), and
    ``f`` is added to the list ``n_joints[1]`` for each person with hands but no body (skipped)."""
    try:
        doc = json.loads(f.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MocapError(f"not valid JSON ({e})", f) from None
    if not isinstance(doc, dict):
        raise MocapError("not an OpenPose keypoint file (top level is not an object)", f)
    people = []
    if not isinstance(doc.get("people") or [], list):
        raise MocapError(f"'people' must be a list of people, not {type(doc['people']).__name__}", f)
    for person in doc.get("people") or []:
        flat = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
        hands = [_hand_array(person, side, f) for side in ("left", "right")] if isinstance(person, dict) else [None] * 2
        if not flat:
            if any(h is not None and (h[:, 2] > 0).any() for h in hands):
                n_joints[1].append(f)  # hands alone: reported by the caller
            continue
        arr = _numbers(flat, "pose_keypoints_2d", f)
        if arr.size % 3:
            raise MocapError(f"pose_keypoints_2d has {arr.size} values, not a multiple of 3", f)
        if n_joints[0] is None:
            n_joints[0] = arr.size // 3
        elif arr.size // 3 != n_joints[0]:
            raise MocapError(f"{arr.size // 3} keypoints per person, earlier files had {n_joints[0]}", f)
        arr = arr.reshape(-1, 3)
        if any(h is not None for h in hands):  # one hand only: the other is not detected (confidence 0)
            arr = np.concatenate([arr] + [h if h is not None else np.zeros((HAND_POINTS, 3)) for h in hands])
        people.append(arr)
    return people


HAND_POINTS = 21


def _numbers(values, key: str, f: Path) -> np.ndarray:
    """A JSON list of numbers as a flat float array; a clear error naming ``key`` and file ``f`` otherwise."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise MocapError(f"{key} holds non-numeric values", f) from None
    if arr.ndim != 1:
        raise MocapError(f"{key} must be a flat list of numbers", f)
    return arr


def _hand_array(person: dict, side: str, f: Path) -> np.ndarray | None:
    """``hand_<side>_keypoints_2d`` of one OpenPose person as ``(21, 3)``; None when absent or empty."""
    key = f"hand_{side}_keypoints_2d"
    values = person.get(key)
    if not values:
        return None
    arr = _numbers(values, key, f)
    if arr.size != 3 * HAND_POINTS:
        raise MocapError(f"{key} has {arr.size} values; a hand has {HAND_POINTS} points of x, y, confidence "
                         f"({3 * HAND_POINTS} values)", f)
    return arr.reshape(HAND_POINTS, 3)


def write_openpose_folders(kp: Keypoints2D, folder: str | Path) -> list[Path]:
    """One ``<camera>_json`` folder per camera, ``<camera>.NNNN.json`` per frame (missing -> 0, 0, 0); the hands of a
    body layout with hands (:data:`~mocap.core.skeletons.HAND_LAYOUTS` without a face) in OpenPose's hand arrays."""
    return write_openpose_people(kp.data[:, :, None], kp.camera_names, kp.frames, folder,
                                 hands=kp.skeleton in _WITH_HANDS.values())


def write_openpose_people(data: np.ndarray, camera_names: list[str], frames, folder: str | Path,
                          *, ids=None, hands: bool = False) -> list[Path]:
    """Several people ``(C, T, P, J, 3)`` as OpenPose JSON: one ``<camera>_json`` folder per camera,
    ``<camera>.NNNN.json`` per frame listing the people with any joint (missing joints -> 0, 0, 0), with
    ``person_id`` = ``[ids[p]]`` when tracked identities ``ids (P,)`` are given (else OpenPose's -1). With
    ``hands`` the last 42 joints are the left and right hands (:func:`~mocap.core.skeletons.with_hands`), written
    as ``hand_left_keypoints_2d`` and ``hand_right_keypoints_2d`` (OpenPose's ``--hand``)."""
    out = []
    flat = np.nan_to_num(data, nan=0.0)
    body = data.shape[3] - 2 * HAND_POINTS if hands else data.shape[3]

    def values(a):
        return [round(float(v), 4) for v in a.ravel()]

    def person(c, t, p):
        doc = {"person_id": [int(ids[p]) if ids is not None else -1], "pose_keypoints_2d": values(flat[c, t, p, :body])}
        if hands:
            doc["hand_left_keypoints_2d"] = values(flat[c, t, p, body:body + HAND_POINTS])
            doc["hand_right_keypoints_2d"] = values(flat[c, t, p, body + HAND_POINTS:])
        return doc

    for c, name in enumerate(camera_names):
        d = Path(folder) / f"{name}_json"
        d.mkdir(parents=True, exist_ok=True)
        for t, num in enumerate(frames):
            people = [person(c, t, p) for p in np.flatnonzero((data[c, t, :, :, 2] > 0).any(-1))]
            with atomic_open(d / f"{name}.{int(num):04d}.json") as f:
                json.dump({"version": 1.3, "people": people}, f)
        out.append(d)
    return out


@reader("COCO keypoint file")
def read_coco_results(path: str | Path, fps: float = 30.0, skeleton: str | Skeleton | None = None) -> MultiPersonKeypoints:
    """COCO keypoint results: a JSON list of ``{image_id, keypoints: [x, y, v]*J, score}`` (or a dataset's
    ``annotations``); one camera. COCO-WholeBody's split arrays (``keypoints``, ``foot_kpts``, ``face_kpts``,
    ``lefthand_kpts``, ``righthand_kpts``) are joined in that order (133 points). ``skeleton`` None: told by the
    number of points (17 COCO, 26 HALPE, 33 MediaPipe, 133 COCO-WholeBody, 136 HALPE-136)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MocapError(f"not valid JSON ({e})", path) from None
    if isinstance(doc, dict) and "annotations" in doc:
        doc = doc["annotations"]
    if not isinstance(doc, list) or not all(isinstance(d, dict) and "keypoints" in d for d in doc):
        raise MocapError("not a COCO results list (entries need 'image_id' and 'keypoints')", path)
    bad = next((n for n, d in enumerate(doc) if not isinstance(d.get("image_id", 0), (int, str))), None)
    if bad is not None:
        raise MocapError(f"entry {bad}: 'image_id' must be a number or a name", path)
    ids = sorted({d.get("image_id", 0) for d in doc}, key=natural_key)
    index = {i: n for n, i in enumerate(ids)}
    per_frame: dict[int, list] = {}
    for n, d in enumerate(doc):
        try:
            arr = np.concatenate([np.asarray(d[k], dtype=float).ravel() for k in _WHOLEBODY_PARTS if k in d]).reshape(-1, 3)
            score = float(d.get("score", 1.0))
        except (TypeError, ValueError):
            raise MocapError(f"entry {n}: 'keypoints' must be x, y, v numbers per joint and 'score' a number",
                             path) from None
        if skeleton is None:
            skeleton = _BY_COUNT.get(len(arr))
            if skeleton is None:
                raise MocapError(f"cannot tell the skeleton of {len(arr)} keypoints: pass one explicitly", path)
        skeleton = get_skeleton(skeleton)
        if len(arr) != len(skeleton):
            raise MocapError(f"entry {n}: {len(arr)} keypoints but skeleton {skeleton.name} has {len(skeleton)}", path)
        per_frame.setdefault(index[d.get("image_id", 0)], []).append((score, arr))
    skeleton = get_skeleton(skeleton or "coco_17")
    P = max((len(v) for v in per_frame.values()), default=1)
    data = np.full((1, len(ids), P, len(skeleton), 3), np.nan)
    for t, people in per_frame.items():
        for p, (_, arr) in enumerate(sorted(people, key=lambda s: -float(s[0]))):
            data[0, t, p] = arr
    return MultiPersonKeypoints(sanitize(data), skeleton, fps, [path.stem],
                                np.array([_frame_number(str(i)) or n for n, i in enumerate(ids)]), [str(path)])


_WHOLEBODY_PARTS = ("keypoints", "foot_kpts", "face_kpts", "lefthand_kpts", "righthand_kpts")  # COCO-WholeBody order


_CSV_HEADER = ["camera", "frame", "joint", "x", "y", "confidence"]


def write_people_npz(keypoints: np.ndarray, ids, skeleton: Skeleton, fps: float, *, frames, path: str | Path,
                     camera: str = "video", world: np.ndarray | None = None) -> Path:
    """Everyone seen in one video as ``.npz`` (atomic): ``people (T, P, J, 3)`` = x px, y px, confidence
    (NaN, 0 where a person is not seen), ``person_ids (P,)``, ``world (T, P, J, 3)`` metres when given,
    skeleton, fps, frames, camera name. :func:`read_keypoints` reads it (several people: as ``several``
    says; :func:`mocap.associate.follow.follow_person` takes the most present ID)."""
    path = Path(path)
    extra = {} if world is None else {"world": world}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, people=keypoints, person_ids=np.asarray(ids, int), skeleton=skeleton.name, fps=fps,
                                camera_names=np.array([camera]), frames=np.asarray(frames), units="px", **extra)
    return path


def write_keypoints(kp: Keypoints2D, path: str | Path) -> None:
    """Write ``.npz`` (arrays + metadata) or ``.csv`` (one row per camera, frame, joint; x, y in px)."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, data=kp.data, skeleton=kp.skeleton.name, fps=kp.fps,
                                    camera_names=np.array(kp.camera_names), frames=kp.frames, units="px")
    elif path.suffix.lower() == ".csv":
        C, T, J, _ = kp.data.shape
        with atomic_open(path) as f:
            w = csv.writer(f)
            w.writerow(_CSV_HEADER)
            for c in range(C):
                for t in range(T):
                    for j in range(J):
                        x, y, s = kp.data[c, t, j]
                        w.writerow([kp.camera_names[c], int(kp.frames[t]), kp.skeleton.joints[j],
                                    repr(float(x)), repr(float(y)), repr(float(s))])
    else:
        raise MocapError("keypoints are written as .npz or .csv", path)


@reader("keypoint file")
def read_keypoints(path: str | Path, skeleton: str | Skeleton | None = None, fps: float | None = None,
                   several: str | Callable[[MultiPersonKeypoints], Keypoints2D] = "error") -> Keypoints2D:
    """Read ``.npz``/``.csv`` written by :func:`write_keypoints`, an OpenPose JSON folder or COCO results.
    Where an OpenPose/COCO source holds several people, ``several`` says what to do: "error" (pick one
    with :func:`mocap.associate.tracks.select_person` for calibrated cameras), or a function that
    reduces the :class:`MultiPersonKeypoints` to one person (e.g.
    :func:`mocap.associate.follow.follow_person`, which follows one person through each view)."""
    if several == "error":
        pick = MultiPersonKeypoints.single
    elif callable(several):
        pick = several
    else:
        raise MocapError(f"several must be 'error' or a function, got {several!r}")
    path = Path(path)
    multi = read_any(path, skeleton, fps)
    if path.suffix.lower() in (".npz", ".csv") and not path.is_dir() and multi.ids is None:  # one person per camera
        kp = multi.single()  # a view of what was read, not a copy
        kp.source = str(path)
        return kp
    return pick(multi)


def read_any(path: str | Path, skeleton: str | Skeleton | None = None, fps: float | None = None) -> MultiPersonKeypoints:
    """Everyone in one keypoint source, whatever its layout: an OpenPose JSON folder (one camera), COCO results
    ``.json`` (one camera), ``.npz``/``.csv`` of :func:`write_keypoints` (any number of cameras, one person) or the
    ``.npz`` of :func:`write_people_npz` (``mocap detect``: one camera, everyone with an ID). ``fps`` overrides the
    file's own (JSON has none: 30 by default)."""
    path = Path(path)
    if not path.exists():
        raise MocapError("keypoint file not found", path)
    suffix = path.suffix.lower()
    if path.is_dir():
        return read_openpose_folders([path], skeleton, fps or 30.0)
    if suffix == ".npz":
        return _read_npz(path, fps)
    if suffix == ".csv":
        return _as_multi(_read_keypoints_csv(path, skeleton, fps or 30.0))
    if suffix == ".json":
        return read_coco_results(path, fps or 30.0, skeleton)
    raise MocapError("unknown keypoint format (expected OpenPose folder, COCO .json, .npz or .csv)", path)


def _as_multi(kp: Keypoints2D) -> MultiPersonKeypoints:
    return MultiPersonKeypoints(kp.data[:, :, None], kp.skeleton, kp.fps, list(kp.camera_names), kp.frames, [kp.source])


def _read_npz(path: Path, fps: float | None) -> MultiPersonKeypoints:
    try:
        z = np.load(path, allow_pickle=False)
        if "people" in z.files:
            multi = MultiPersonKeypoints(sanitize(np.asarray(z["people"], float)[None]),
                                         get_skeleton(str(z["skeleton"])), float(fps or z["fps"]),
                                         camera_names=[str(n) for n in z["camera_names"]], frames=z["frames"],
                                         sources=[str(path)], ids=np.asarray(z["person_ids"]))
            if multi.data.ndim != 5 or multi.data.shape[-1] != 3 or len(multi.ids) != multi.data.shape[2]:
                raise ValueError(f"people array of shape {multi.data.shape[1:]}, expected (T, P, J, 3)")
            return multi
        return _as_multi(Keypoints2D(z["data"], str(z["skeleton"]), float(fps or z["fps"]),
                                     [str(n) for n in z["camera_names"]], z["frames"], str(path), copy=False))
    except MocapError as e:
        raise MocapError(e.cause, path) from None
    except Exception as e:  # zip, zlib, numpy format and field errors of a damaged or foreign file
        raise MocapError(f"not a mocap keypoint .npz ({type(e).__name__}: {e})", path) from None


@reader("set of keypoint files")
def read_views(paths: list[str | Path], skeleton: str | Skeleton | None = None, fps: float | None = None,
               *, unequal: bool = False) -> MultiPersonKeypoints:
    """Every camera's keypoints for triangulation, ``(C, T, P, J, 3)``, from any layout the package reads:

    - OpenPose JSON: a parent folder of ``*_json`` camera folders, or the camera folders themselves;
    - one ``.npz``/``.csv`` holding every camera (:func:`write_keypoints`);
    - one file per camera, in camera order: ``.npz`` of ``mocap detect`` (everyone seen), ``.npz``/``.csv`` of one
      camera, COCO results ``.json``.

    Frames are matched by number; cameras with different frame counts are an error unless ``unequal``
    (unsynchronised cameras: the missing frames are empty). The per-camera IDs of ``mocap detect`` are dropped
    (people are matched across cameras by the triangulation). ``fps`` overrides the files' own rate (JSON: 30).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise MocapError("no keypoints given")
    for p in paths:
        if not p.exists():
            raise MocapError("keypoints not found", p)
    if all(p.is_dir() for p in paths):
        return read_openpose_folders(keypoint_folders(paths), skeleton, fps or 30.0, unequal=unequal)
    if any(p.is_dir() for p in paths):
        raise MocapError("give either OpenPose JSON folders or keypoint files, not both",
                         next(p for p in paths if p.is_dir()))
    return stack_views([read_any(p, skeleton, fps) for p in paths], unequal=unequal)


def stack_views(views: list[MultiPersonKeypoints], *, unequal: bool = False) -> MultiPersonKeypoints:
    """Cameras of several sources side by side: frames matched by number, people slots padded. Raises
    :class:`MocapError` (naming the file) on different layouts, rates, or frame counts (unless ``unequal``)."""
    if len(views) == 1:
        return replace(views[0], ids=None) if views[0].data.shape[0] > 1 else views[0]
    first = views[0]
    for v in views[1:]:
        if v.skeleton.name != first.skeleton.name or v.data.shape[3] != first.data.shape[3]:
            raise MocapError(f"keypoint layout {v.skeleton.name} differs from {first.skeleton.name} in "
                             f"{first.sources[0]}", v.sources[0])
        if abs(v.fps - first.fps) > 1e-6:
            raise MocapError(f"{v.fps:g} fps, but {first.sources[0]} has {first.fps:g} fps (resample or pass --fps)",
                             v.sources[0])
    if not unequal:
        same_frame_counts([len(v.frames) for v in views], [v.sources[0] for v in views])
    numbers = np.array(sorted(set().union(*[np.asarray(v.frames).tolist() for v in views])))
    C, P = sum(v.data.shape[0] for v in views), max(v.data.shape[2] for v in views)
    data = np.full((C, len(numbers), P) + first.data.shape[3:], np.nan)
    data[..., 2] = 0
    c = 0
    for v in views:
        rows = np.searchsorted(numbers, np.asarray(v.frames))
        data[c:c + v.data.shape[0], rows, :v.data.shape[2]] = v.data
        c += v.data.shape[0]
    names = [n for v in views for n in v.camera_names]
    if len(set(names)) < len(names):  # e.g. every detect NPZ names its camera "video": the file names instead
        names = [f"{Path(v.sources[0]).stem}" + (f"_{k}" if v.data.shape[0] > 1 else "")
                 for v in views for k in range(v.data.shape[0])]
    return MultiPersonKeypoints(data, first.skeleton, first.fps, names, numbers, [s for v in views for s in v.sources],
                                notes=[n for v in views for n in v.notes])


def same_frame_counts(counts: list[int], sources: list) -> None:
    """One error naming the shortest of ``sources`` (folders or files, one per camera or group of cameras) when their
    frame ``counts`` differ: unsynchronised cameras are trimmed or synchronised first."""
    if len(set(counts)) > 1:
        detail = ", ".join(f"{Path(s).name}: {n}" for s, n in zip(sources, counts))
        raise MocapError(f"cameras have different frame counts ({detail}); trim them to the same frames, or "
                         "synchronise them (mocap sync, triangulate --sync)", sources[counts.index(min(counts))])


def _read_keypoints_csv(path: Path, skeleton, fps: float) -> Keypoints2D:
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise MocapError(f"cannot read as CSV ({e})", path) from None
    if not rows or [h.strip().lower() for h in rows[0]] != _CSV_HEADER:
        raise MocapError(f"CSV header must be {','.join(_CSV_HEADER)}", path)
    rows = rows[1:]
    for lineno, r in enumerate(rows, start=2):
        if len(r) != len(_CSV_HEADER) or not r[1].strip().lstrip("-").isdigit():
            raise MocapError(f"line {lineno}: expected camera, frame (a whole number), joint, x, y, confidence", path)
    if not rows:
        raise MocapError("no keypoint rows after the header", path)
    cams = list(dict.fromkeys(r[0] for r in rows))
    frames = sorted({int(r[1]) for r in rows})
    joints = list(dict.fromkeys(r[2] for r in rows))
    if skeleton is None:
        matches = [s for s in set(_BY_COUNT.values()) | {BODY_25, BODY_25B} | set(HAND_LAYOUTS) if list(s.joints) == joints]
        if not matches:
            raise MocapError("joint names match no registered skeleton: pass one explicitly", path)
        skeleton = matches[0]
    skeleton = get_skeleton(skeleton)
    data = np.full((len(cams), len(frames), len(skeleton), 3), np.nan)
    ci, fi = {c: i for i, c in enumerate(cams)}, {n: i for i, n in enumerate(frames)}
    try:
        for lineno, r in enumerate(rows, start=2):
            data[ci[r[0]], fi[int(r[1])], skeleton.index(r[2])] = [float(v) for v in r[3:6]]
    except (ValueError, KeyError, IndexError) as e:
        raise MocapError(f"line {lineno}: malformed row ({e})", path) from None
    return Keypoints2D(data, skeleton, fps, cams, np.array(frames), str(path))


def keypoints_extent(paths: list[str | Path]) -> tuple[int | None, int | None]:
    """``(cameras, frames)`` of a keypoint input (as :func:`read_views` takes it) without reading the keypoints: the
    camera names and frame numbers of an ``.npz`` (a ``mocap detect`` file is one camera), the number of folders and
    of JSON files in the first of OpenPose folders; None for what is not known this way (CSV, COCO JSON, a damaged
    file: the reader says what is wrong when it runs)."""
    paths = [Path(p) for p in paths]
    try:
        if paths and all(p.is_dir() for p in paths):
            folders = keypoint_folders(paths)
            return len(folders), sum(1 for _ in folders[0].glob("*.json"))
        if len(paths) == 1 and paths[0].suffix.lower() == ".npz":
            with np.load(paths[0], allow_pickle=False) as z:
                return (1 if "people" in z.files else len(z["camera_names"])), len(z["frames"])
    except (OSError, ValueError, KeyError, MocapError):
        pass
    return (len(paths), None) if len(paths) > 1 and all(p.is_file() for p in paths) else (None, None)  # one per camera


def keypoint_folders(paths: list[str | Path]) -> list[Path]:
    """Expand ``paths``: a parent folder holding ``*_json`` camera folders, or the camera folders themselves."""
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise MocapError("keypoint folder not found", p)
        subs = sorted([d for d in p.iterdir() if d.is_dir() and d.name.endswith("json")], key=lambda d: natural_key(d.name)) \
            if p.is_dir() else []
        out += subs if subs and not any(p.glob("*.json")) else [p]
    return out
