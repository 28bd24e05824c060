"""A session: its trials (found in a folder laid out like Pose2Sim's, or listed in a TOML/CSV manifest), each
with its inputs, calibration, options and output folder, and the chain of stages to run for it.

Folder layout (Pose2Sim's, any depth of participant/session levels between)::

    Session/                     Config.toml (Pose2Sim) and/or mocap.toml (ours): defaults
      calibration/Calib.toml     a folder whose name holds "calib", found from the trial upwards
      P01/Config.toml            overrides for this level
        T01/pose/cam01_json/...  a trial: OpenPose JSON folders in pose/ ...
        T02/videos/cam01.mp4     ... or videos in videos/ (one video: the monocular lifter)
        T02/mocap.toml           overrides for this trial only

Outputs go to ``<trial>/mocap/`` (``batch.output``); the session summary to ``<session>/mocap_batch/``.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MocapError
from .config import DEFAULTS, check_keys, level_options, merge, read_toml, resolve

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}
KEYPOINT_SUFFIXES = {".npz", ".csv", ".json"}


@dataclass
class Trial:
    """One recording: ``keypoints`` (OpenPose JSON folders, one per camera, or one keypoints file),
    ``videos`` (one per camera), ``calib`` (None for one camera), resolved ``options`` and the ``output``
    folder. ``error`` is set when the trial cannot run (reported; the others go on)."""

    name: str
    folder: Path
    output: Path
    keypoints: list[Path] = field(default_factory=list)
    videos: list[Path] = field(default_factory=list)
    calib: Path | None = None
    options: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def cameras(self) -> int:
        """One per video or keypoint folder/file; as many as it holds for one keypoints file of every camera."""
        if len(self.keypoints) == 1 and self.keypoints[0].is_file():
            from ..io.keypoints import keypoints_extent

            return max(keypoints_extent(self.keypoints)[0] or 1, len(self.videos))
        return max(len(self.keypoints), len(self.videos))

    @property
    def stem(self) -> str:
        """Output files are ``<stem>.trc``, ``<stem>.bvh``, ...: the trial's last name part."""
        return self.name.rsplit("/", 1)[-1]


@dataclass
class Session:
    """Trials in order, where the summary goes, and the option files that were read."""

    root: Path
    trials: list[Trial]
    summary_dir: Path
    option_files: list[Path] = field(default_factory=list)


def read_session(path: str | Path, config: str | Path | None = None, overrides: dict | None = None) -> Session:
    """A session folder or a manifest (``.toml`` / ``.csv``) -> :class:`Session`. ``config`` is a TOML of
    defaults read first (below every level's own files); ``overrides`` (``{section: {key: value}}``, e.g.
    from the command line) win over everything."""
    path = Path(path)
    base = {}
    if config:
        base = read_toml(config)
        check_keys(base, config)
    if path.is_file() and path.suffix.lower() in (".toml", ".csv"):
        return _manifest(path, base, overrides or {})
    if not path.is_dir():
        raise MocapError("no such session folder or manifest (.toml/.csv)", path)
    return _folder_session(path, base, overrides or {})


def _folder_session(root: Path, base: dict, overrides: dict) -> Session:
    files, trials = [], []
    out_name = merge(merge(DEFAULTS, base), overrides)["batch"]["output"]
    for folder, chain in _trial_folders(root, out_name):
        opts = dict(base)
        for level in chain:
            level_opts, read = level_options(level)
            opts = merge(opts, level_opts)
            files += [f for f in read if f not in files]
        opts = merge(opts, overrides)
        name = folder.relative_to(root).as_posix() if folder != root else root.name
        trial = Trial(name, folder, folder / out_name)
        _fill_inputs(trial, folder)
        try:
            trial.options = resolve(opts, name)
            trial.output = folder / trial.options["batch"]["output"]
        except MocapError as e:
            trial.error = str(e)
        if _excluded(name, merge(DEFAULTS, opts)["batch"]["exclude"]):
            continue
        if trial.cameras > 1 and trial.calib is None:
            trial.calib = find_calibration(folder, root)
        trials.append(trial)
    if not trials:
        raise MocapError("no trials found: a trial folder holds pose/ (OpenPose JSON folders) or videos/", root)
    return Session(root, trials, root / "mocap_batch", files)


def _trial_folders(root: Path, out_name: str) -> list[tuple[Path, list[Path]]]:
    """Trial folders under ``root`` (sorted) with the chain of levels from ``root`` down to each."""
    found = []

    def walk(folder: Path, chain: list[Path]) -> None:
        chain = chain + [folder]
        if (folder / "pose").is_dir() or (folder / "videos").is_dir():
            found.append((folder, chain))
            return
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            if sub.name.startswith(".") or sub.name in (out_name, "mocap_batch") or "calib" in sub.name.lower():
                continue
            walk(sub, chain)

    walk(root, [])
    return found


def _fill_inputs(trial: Trial, folder: Path) -> None:
    pose = folder / "pose"
    if pose.is_dir():
        trial.keypoints = sorted((p for p in pose.iterdir() if p.is_dir() and any(p.glob("*.json"))), key=_natural)
        if not trial.keypoints:
            files = sorted(p for p in pose.iterdir() if p.suffix.lower() in KEYPOINT_SUFFIXES)
            trial.keypoints = files[:1]
    videos = folder / "videos"
    if videos.is_dir():
        trial.videos = sorted((p for p in videos.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES), key=_natural)
    if not trial.keypoints and not trial.videos:
        trial.error = "pose/ holds no OpenPose JSON folder or keypoints file, and videos/ no video"


def _natural(p: Path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


def _excluded(name: str, exclude) -> bool:
    return any(name == e or name.endswith("/" + str(e)) or Path(name).name == e for e in exclude or [])


def find_calibration(folder: Path, root: Path) -> Path | None:
    """The calibration for a trial: in a folder whose name holds "calib", beside the trial or on a level above
    it (up to the session root): a ``.toml`` other than Config.toml/mocap.toml (``Calib*`` first), a Qualisys
    ``.qca.txt``, or an ``intri.yml`` + ``extri.yml`` pair."""
    for level in [folder, *folder.parents]:
        for d in sorted(p for p in level.iterdir() if p.is_dir() and "calib" in p.name.lower()):
            tomls = sorted((p for p in d.glob("*.toml") if p.name not in ("Config.toml", "mocap.toml")),
                           key=lambda p: (not p.name.lower().startswith("calib"), p.name))
            if tomls:
                return tomls[0]
            if (d / "intri.yml").is_file():
                return d
            qca = sorted(d.glob("*.qca.txt"))
            if qca:
                return qca[0]
        if level == root or root not in level.parents:
            break
    return None


def _manifest(path: Path, base: dict, overrides: dict) -> Session:
    """``[defaults]`` + ``[[trial]]`` tables (TOML), or one row per trial (CSV: ``name``, ``calib``,
    ``keypoints``, ``videos``, ``output`` and ``section.key`` option columns; several paths split by ``;``)."""
    here = path.parent
    if path.suffix.lower() == ".toml":
        doc = read_toml(path)
        defaults = doc.get("defaults", {})
        rows = doc.get("trial", [])
        if not isinstance(rows, list) or not rows:
            raise MocapError("a manifest lists its trials as [[trial]] tables (name, keypoints or videos, calib)", path)
    else:
        defaults, rows = {}, _csv_rows(path)
    check_keys(defaults, path)
    trials, names = [], set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise MocapError(f"trial {i + 1} is not a table", path)
        trial = _manifest_trial(row, i, here, merge(merge(base, defaults), {}), overrides=overrides, where=path)
        if trial.name in names:
            raise MocapError(f"two trials are named {trial.name!r}", path)
        names.add(trial.name)
        trials.append(trial)
    return Session(here, trials, here / "mocap_batch", [path])


def _manifest_trial(row: dict, i: int, here: Path, defaults: dict, *, overrides: dict, where: Path) -> Trial:
    row = dict(row)
    name = str(row.pop("name", f"trial{i + 1}"))
    paths = {k: [here / p for p in _paths(row.pop(k, []))] for k in ("keypoints", "videos", "calib", "output")}
    folder = (paths["keypoints"] or paths["videos"] or [here / name])[0].parent
    trial = Trial(name, folder, paths["output"][0] if paths["output"] else here / "mocap_batch" / name)
    trial.keypoints, trial.videos = paths["keypoints"], paths["videos"]
    trial.calib = paths["calib"][0] if paths["calib"] else None
    try:
        trial.options = resolve(merge(merge(defaults, row), overrides), f"{where}: trial {name}")
    except MocapError as e:
        trial.error = str(e)
    missing = [p for p in trial.keypoints + trial.videos + ([trial.calib] if trial.calib else []) if not p.exists()]
    if missing:
        trial.error = f"not found: {', '.join(str(p) for p in missing)}"
    elif not trial.keypoints and not trial.videos:
        trial.error = "lists no keypoints and no videos"
    elif trial.cameras > 1 and trial.calib is None:
        trial.error = f"{trial.cameras} cameras but no calib"
    return trial


def _paths(value) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    if isinstance(value, list):
        return [str(v) for v in value]
    raise MocapError(f"expected a path or a list of paths, not {value!r}")


def _csv_rows(path: Path) -> list[dict]:
    """CSV rows as nested option dicts: ``triangulate.fps`` -> ``{"triangulate": {"fps": 60.0}}``."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise MocapError(f"cannot read the manifest: {e}", path) from None
    out = []
    for row in rows:
        item: dict = {}
        for key, value in row.items():
            if key is None or value is None or value == "":
                continue
            if "." in key:
                sec, opt = key.split(".", 1)
                item.setdefault(sec, {})[opt] = _csv_value(value)
            else:
                item[key] = value
        out.append(item)
    if not out:
        raise MocapError("the manifest has no rows (a header: name, calib, keypoints or videos, then one row per trial)", path)
    return out


def _csv_value(text: str):
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return [s.strip() for s in text.split(";")] if ";" in text else text

