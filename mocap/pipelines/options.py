"""Every job's options, one typed object per job (:mod:`mocap.core.options`: each field states its default, kind,
range, choices and help once). The command line and the batch TOML sections are generated from these classes; the
pipelines run them. This module stays light (numpy, no stage): building the command-line parser imports it.
"""
from __future__ import annotations

from dataclasses import KW_ONLY, asdict, dataclass
from pathlib import Path

from ..core.motion import UNIT_SCALE
from ..core.options import check_options, option
from ..core.people import People, people_option
from ..io.outputs import check_output_format, output_problem
from ..io.vmc import DEFAULT_PORT, parse_endpoint

SYNC_METHODS = ("geometric", "motion")  # agreement of the calibrated views; correlated vertical speed (no calibration)
METHODS = ("lifter", "world")  # one camera's 3D: our learned lifter; MediaPipe's hip-centred world landmarks
CONTACTS = ("auto", "off")

# Options several jobs share, declared once.
FPS = option(None, "frame rate of the keypoints (default: the files' own; 30 for JSON)", kind=float,
             range=(0, 10_000, False, True))
SKELETON = option(None, "keypoint layout (default: from the data)")
FOCAL = option(None, "camera focal length, px (default: larger image side)", kind=float, range=(0, 1e6, False, True))
STRIDE = option(1, "use every N-th frame", range=(1, 10_000, True, True))
RESIZE = option(None, "scale frames so the longer side is this many px", kind=float, range=(16, 100_000, True, True))


def contacts_option(what: str = ""):
    """``contacts``: ``auto`` (find planted feet and hold them) or ``off``, the same on every job making motion;
    ``what`` starts the help (e.g. "with --smooth: ")."""
    return option("auto", f"{what}find where each foot is planted, hold it still on the floor there and (one camera) "
                          "anchor the root to it (auto, default), or not (off)", choices=CONTACTS)


def _known_rig(value) -> str | None:
    from ..retarget.rigs import RIGS  # only when a rig is checked: the rigs module brings the solver with it

    return None if value in RIGS else f"must be one of {', '.join(RIGS)}"


def rig_option(default: str, help: str):
    """A job's ``rig`` option: one of :data:`mocap.retarget.rigs.RIGS` (checked when the job is made)."""
    return option(default, help, check=_known_rig)


@dataclass
class TriangulationJob:
    """Inputs and options of ``mocap triangulate`` (see :func:`run_triangulation`); what happened
    comes back in the :class:`~mocap.triangulate.result.TriangulationResult` (``notes``, ``quality``).
    Every option is checked when the job is made (:mod:`mocap.core.options`)."""

    calib: str | Path
    keypoints: list[str | Path]
    output: str | Path | None = None
    _: KW_ONLY
    skeleton: str | None = SKELETON
    fps: float | None = FPS
    mode: str = option("robust", "robust (default) or Pose2Sim-compatible camera exclusion", choices=("robust", "pose2sim"))
    refine: bool = option(False, "nonlinear refinement of the distorted reprojection error")
    threshold_px: float | None = option(None, "outlier threshold, px (default 1.5%% of image size)", kind=float,
                                        range=(0, 10_000, False, True), flag="--threshold")
    min_confidence: float = option(0.3, "ignore detections below this (default {default})", range=(0, 1, True, False))
    smooth: bool = option(False, "refine all frames jointly: reprojection + smoothness + constant bone lengths, "
                                 "fill gaps <= 0.5 s")
    rig: str = rig_option("mixamo", "rig when -o is an animation: .bvh, .glb, .gltf, .fbx (default {default})")
    people: People | int | str = people_option(
        "'all': everyone, one file each (out_p1.trc, out_p2.trc, ... IDs by first appearance); N: the N most "
        "present, one file each; pID: that person, to -o itself; default 1: the most present person, to -o itself")
    one_file: bool = option(False, "with --people: all people in one .npz (positions K x T x J x 3)")
    sync: str | None = option(None, "unsynchronised cameras: 'auto' finds each camera's time offset from the people in "
                                    "view, or give the offsets file `mocap sync` wrote", metavar="auto|FILE")
    sync_method: str = option(SYNC_METHODS[0], "with --sync auto: agreement of the views (default) or motion correlation "
                                               "(no calibration needed)", choices=SYNC_METHODS)
    contacts: str = contacts_option("with --smooth: ")
    workers: int = option(0, "processes for a long recording's blocks of frames and windows of smoothing (the same "
                             "answer): 0 every core from 10 000 frames (default), 1 this process only",
                          kind=int, range=(0, 256, True, True))

    def __post_init__(self):
        check_options(self, self.calib)
        self.people = People.parse(self.people)
        if self.output is not None:
            check_output_format(self.output)

    @property
    def tracks_people(self) -> bool:
        """Several people, one by ID, or one file for everyone: the multi-person path (:func:`triangulate_people`);
        otherwise the most present person (:func:`run_triangulation`)."""
        return self.people != People() or self.one_file


@dataclass(kw_only=True)
class SyncOptions:
    """How the offsets are found (:func:`mocap.triangulate.sync.synchronise`)."""

    fps: float | None = FPS
    method: str = option(SYNC_METHODS[0], "geometric: the offsets that make the views agree (default); motion: "
                                          "correlate the main person's vertical speed (no calibration needed; one person)",
                         choices=SYNC_METHODS)
    reference: str | None = option(None, "camera whose clock the others follow (default: the first)")
    max_offset: float = option(2.0, "largest offset searched, s (default {default})", range=(0, 3600, False, True))
    skeleton: str | None = SKELETON

    def __post_init__(self):
        check_options(self)


@dataclass(kw_only=True)
class DetectOptions:
    """How videos are read and people followed (:func:`mocap.detect.tracking.track_video`)."""

    max_people: int = option(8, "people followed at once (default {default})", range=(1, 1000, True, True))
    stride: int = STRIDE
    resize: float | None = RESIZE
    start: float = option(0.0, "start time, s", range=(0, float("inf"), True, False))
    end: float | None = option(None, "end time, s", kind=float, range=(0, float("inf"), False, False))
    hands: bool = option(False, "each person's hands too: 21 points per hand from the hand landmark model on the "
                                "regions the arms predict (OpenPose hand arrays, the mediapipe_33_hands layout)")

    def __post_init__(self):
        check_options(self)

    def track(self, video, progress=None):
        """Everyone in ``video`` as these options say (:class:`~mocap.detect.tracking.VideoPeople`)."""
        from ..detect.tracking import track_video

        return track_video(video, stride=self.stride, resize=self.resize, start=self.start, end=self.end,
                           progress=progress, max_people=self.max_people, hands=self.hands)


@dataclass(kw_only=True)
class LiftOptions:
    """``mocap lift``'s options (:func:`lift_keypoints`): the keypoints' layout and rate, the camera, the lifter."""

    skeleton: str | None = SKELETON
    fps: float | None = FPS
    focal: float | None = FOCAL
    width: int = option(1920, "image width, px (default {default})", range=(16, 100_000, True, True))
    height: int = option(1080, "image height, px (default {default})", range=(16, 100_000, True, True))
    rig: str = rig_option("mixamo", "rig when -o is an animation: .bvh, .glb, .gltf, .fbx (default {default})")
    live: bool = option(False, "the causal (live) weights: each frame from the past 26 frames only, no look-ahead")
    weights: str | None = option(None, "lifter weights file (default: the shipped ones)")
    contacts: str = contacts_option()

    def __post_init__(self):
        check_options(self)


@dataclass(kw_only=True)
class VideoOptions:
    """``mocap video2bvh``'s options (:func:`video_to_bvh`)."""

    rig: str = rig_option("mixamo", "generic, mixamo (default), cmu, smpl")
    people: People | int | str = people_option(
        "1 (default): the most present person, to -o itself; N: the N most present, one BVH each (out_p1.bvh, ...); "
        "'all': everyone, one BVH each; pID: that person (IDs as mocap detect's table shows them), to -o itself")
    preview: str | None = option(None, "write a side-by-side preview MP4")
    method: str = option("lifter", "3D from our learned lifter (default: pose and root trajectory) or MediaPipe's "
                                   "hip-centred world landmarks", choices=METHODS)
    focal: float | None = FOCAL
    stride: int = STRIDE
    resize: float | None = RESIZE
    units: str = option("cm", "units of a BVH (glTF and FBX are in metres)", choices=("m", "cm", "mm", "in"))
    contacts: str = contacts_option()
    hands: bool = option(False, "fingers too: the hand landmark model on the regions the arms predict, its own 3D "
                                "points on the lifted wrists (15 finger bones per hand in the BVH)")

    def __post_init__(self):
        check_options(self)
        self.people = People.parse(self.people)


@dataclass
class LiveOptions:
    """What :func:`run_live` does: ``source`` a camera index (``0``), a video file or a stream URL; files play at
    their own frame rate as a camera would deliver them unless ``realtime`` is off (then every frame is taken,
    as fast as the machine goes); ``vmc`` ``(host, port)`` to send to (None: do not send); ``record`` a BVH
    path; ``rig`` its naming; ``focal`` px (default: the larger image side); ``weights`` the causal lifter;
    ``max_frames`` / ``max_seconds`` stop early; ``contacts``: planted feet held in depth as they come
    (:class:`mocap.smooth.anchor.FootLock`, causal); ``hands``: finger bones from the hand landmark model."""

    source: str | int
    _: KW_ONLY
    vmc: tuple[str, int] | None = option(("127.0.0.1", DEFAULT_PORT),
                                         "where to send the VMC stream (default 127.0.0.1:39539; 'none': do not send)",
                                         kind=tuple, parse=parse_endpoint, metavar="HOST:PORT",
                                         check=lambda v: None if v is None or isinstance(v, str) or (isinstance(v, tuple) and len(v) == 2)
                                         else "must be (host, port)")
    record: Path | None = option(None, "also write what was sent when stopped (Ctrl-C included): .bvh, .glb, .gltf "
                                       "or .fbx", kind=Path, parse=Path,
                                 check=lambda v: output_problem(v, animation=True))
    rig: str = rig_option("mixamo", "bone naming of the recording: generic, mixamo (default), cmu, smpl")
    units: str = option("cm", "units of a BVH recording (default {default}; glTF and FBX are in metres)",
                        choices=("m", "cm", "mm"))
    focal: float | None = FOCAL
    weights: Path | None = option(None, "causal lifter weights (default: the shipped ones)", kind=Path, parse=Path)
    max_frames: int | None = option(None, "stop after this many processed frames", kind=int,
                                    range=(1, 1e12, True, True), flag="--frames")
    max_seconds: float | None = option(None, "stop after this many seconds", kind=float, range=(0, 1e9, False, True),
                                       flag="--seconds")
    realtime: bool = option(True, "a video file: take every frame as fast as the machine goes (default: at its own "
                                  "frame rate)", flag="--as-fast")
    contacts: str = contacts_option("causal, after the first second: ")
    hands: bool = option(False, "fingers too: the hand landmark model on the regions the followed person's arms "
                                "predict, its own 3D points on the lifted wrists (15 finger bones per hand over VMC "
                                "and in the recording; about 40 ms more per frame on two cores)")

    def __post_init__(self):
        check_options(self, self.source)
        self.vmc = parse_endpoint(self.vmc)


def _known_units(value) -> str | None:
    return None if value in UNIT_SCALE else f"must be one of {', '.join(UNIT_SCALE)}"


@dataclass(kw_only=True)
class ConvertOptions:
    """``mocap convert``'s options (:func:`convert_file`)."""

    rig: str = rig_option("generic", "BVH rig: generic, mixamo, cmu, smpl (default {default})")
    units: str | None = option(None, "output units: m, cm, mm (default: cm for BVH, m for TRC/CSV, mm for C3D)",
                               check=_known_units)
    fps: float | None = option(None, "resample to this frame rate", kind=float, range=(0, 10_000, False, True))
    in_units: str = option("auto", "units of a BVH input (default: guessed from the hips)",
                           check=lambda v: None if v == "auto" else _known_units(v))
    height: float | None = option(None, "size the rig to this standing height (m) instead of the subject's bones",
                                  kind=float, range=(0.1, 10, False, True))
    ground: bool = option(True, "do not put the lowest foot on the floor", flag="--no-ground")
    face_forward: bool = option(False, "turn the character to face +Z at the first frame")

    def __post_init__(self):
        check_options(self)

    def kwargs(self) -> dict:
        """The keyword arguments of :func:`convert_file` (``height`` only when given)."""
        kw = asdict(self)
        if kw["height"] is None:
            del kw["height"]
        return kw


@dataclass(kw_only=True)
class SmoothOptions:
    """``mocap smooth``'s options (:func:`smooth_file`; :func:`mocap.smooth.clean.clean_motion`)."""

    filter: str = option("butterworth", "butterworth (default), savgol, median, gaussian, one_euro, kalman",
                         check=lambda v: None if v in _filters() else f"must be one of {', '.join(_filters())}")
    params: dict | None = option(None, "the filter's parameters by name, e.g. {'cutoff': 6.0} (Hz)", kind=dict,
                                 check=lambda v: None if isinstance(v, dict) else "must be a table of NAME = NUMBER")
    max_gap: float = option(0.5, "fill gaps up to this many seconds (default {default})", range=(0, 3600, True, True))
    hampel: bool = option(True, "keep spikes (no Hampel outlier removal)", flag="--no-hampel")

    def __post_init__(self):
        check_options(self)


def _filters() -> tuple:
    from ..smooth.filters import FILTERS

    return tuple(FILTERS)


@dataclass(kw_only=True)
class CalibrationOptions:
    """How the board views are taken and the cameras solved."""

    every: float = option(1.0, "video: use a frame every N seconds (default {default})", range=(0, 3600, False, True))
    fisheye: bool = option(False, "fisheye lens model (intrinsics)")
    origin_frame: int | None = option(None, "world = the board in this frame (default: first camera)", kind=int,
                                      range=(0, 1e12, True, True))
    skeleton: str | None = SKELETON
    height: float = option(1.75, "the person's height, m (metric scale; default {default})", range=(0.1, 10, False, True))

    def __post_init__(self):
        check_options(self)
