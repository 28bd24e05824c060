"""``mocap board`` and ``mocap calibrate intrinsics|extrinsics``: argument parsing over :mod:`mocap.calib`."""
from __future__ import annotations

from pathlib import Path

from ..errors import MocapError


def _board(args):
    from ..calib.board import Board, read_board

    if args.board:
        return read_board(args.board)
    if not args.squares or not args.square_mm:
        raise MocapError("describe the board: a board file (--board) or --squares COLS ROWS --square-mm MM")
    return Board(args.kind, tuple(args.squares), args.square_mm / 1000, (args.marker_mm or 0) / 1000, args.dictionary)


def cmd_board(args) -> int:
    from .common import _console

    board = _board(args)
    board.save(args.output, dpi=args.dpi)
    w, h = board.size_m
    _console(args).print(f"wrote {args.output}: {board.describe()}; print at 100 % scale: the board is "
                         f"{w * 1000:g} x {h * 1000:g} mm (plus a 10 mm margin); measure a square after printing",
                         soft_wrap=True)
    return 0


def _camera_name(src: str) -> str:
    stem = Path(src).stem if Path(src).is_file() else Path(src).name
    for junk in ("int_", "ext_", "_img", "_images"):
        stem = stem.replace(junk, "")
    return stem


def _detect_all(board, sources, every, console, *, names=None):
    from .common import _progress
    from ..calib.views import detect, list_images

    out = []
    with _progress(console) as bar:
        for i, src in enumerate(sources):
            name = names[i] if names else _camera_name(src)
            n = len(list_images(src)) if Path(src).is_dir() else None  # counted without decoding
            task = bar.add_task(f"board in {name}", total=n)
            out.append(detect(board, [src], name, every, progress=lambda: bar.advance(task)))
    return out


def cmd_calibrate(args) -> int:
    from .common import _console
    from ..io.calibration import read_calibration, write_calibration
    from ..core.camera import CameraRig
    from ..calib import report

    console = _console(args)
    if args.action == "intrinsics":
        from ..calib.intrinsics import calibrate_intrinsics

        board = _board(args)
        console.print(f"board: {board.describe()}", soft_wrap=True)
        if not args.images:
            raise MocapError("give --images: one folder of board photos (or a video) per camera")
        dets = _detect_all(board, args.images, args.every, console, names=args.names)
        results = [calibrate_intrinsics(board, d, fisheye=args.fisheye) for d in dets]  # raises before writing
        for r in results:
            for line in report.intrinsics_text(r):
                console.print(line, soft_wrap=True, markup=False)
        rig = CameraRig([r.camera for r in results], "intrinsics")
        write_calibration(rig, args.output)
        if args.report:
            report.plot_intrinsics(results, args.report)
        console.print(f"wrote {args.output}" + (f" and {args.report}" if args.report else ""), soft_wrap=True)
        return 0

    intr = read_calibration(args.intrinsics)
    if args.keypoints:
        from ..associate.follow import most_prominent
        from ..io.keypoints import read_openpose_folders
        from ..core.keypoints import Keypoints2D
        from ..io.keypoints import keypoint_folders
        from ..calib.people import people_extrinsics

        mp = read_openpose_folders(keypoint_folders(args.keypoints), args.skeleton, 30.0)
        kp = Keypoints2D(most_prominent(mp.data), mp.skeleton, mp.fps, mp.camera_names, mp.frames)
        with console.status("bundle adjustment of cameras and the person's joints"):
            res = people_extrinsics(kp, intr, height_m=args.height)
    elif args.images:
        from ..calib.extrinsics import board_extrinsics

        board = _board(args)
        dets = _detect_all(board, args.images, args.every, console, names=intr.names)
        with console.status("bundle adjustment of cameras and board poses"):
            res = board_extrinsics(board, intr, dets, origin_frame=args.origin_frame)
    else:
        raise MocapError("give --images (one folder/video of board views per camera) or --keypoints (a person)")
    for line in report.extrinsics_text(res):
        console.print(line, soft_wrap=True, markup=False)
    write_calibration(res.rig, args.output)
    if args.report:
        report.plot_extrinsics(res, args.report)
    console.print(f"wrote {args.output}" + (f" and {args.report}" if args.report else ""), soft_wrap=True)
    return 0


def _board_args(p) -> None:
    p.add_argument("--board", help="board file (calib/*.toml) or a Pose2Sim Config.toml")
    p.add_argument("--kind", choices=["checkerboard", "charuco"], default="charuco")
    p.add_argument("--squares", type=int, nargs=2, metavar=("COLS", "ROWS"), help="squares along x and y")
    p.add_argument("--square-mm", type=float, help="square side, mm")
    p.add_argument("--marker-mm", type=float, help="ChArUco marker side, mm")
    p.add_argument("--dictionary", default="DICT_4X4_50", help="ChArUco ArUco dictionary (default DICT_4X4_50)")


def add_commands(sub) -> None:
    b = sub.add_parser("board", help="render a printable calibration board (.png or .pdf at true size)")
    _board_args(b)
    b.add_argument("-o", "--output", required=True)
    b.add_argument("--dpi", type=float, default=300.0)
    b.add_argument("-q", "--quiet", action="store_true")
    b.set_defaults(func=cmd_board)

    c = sub.add_parser("calibrate", help="camera intrinsics from board images, extrinsics from boards or a person")
    c.add_argument("action", choices=["intrinsics", "extrinsics"])
    _board_args(c)
    c.add_argument("--names", nargs="*", help="camera names (default: from the folder names)")
    c.add_argument("--fisheye", action="store_true", help="fisheye lens model (intrinsics)")
    c.add_argument("--every", type=float, default=1.0, help="video: use a frame every N seconds (default 1)")
    c.add_argument("--intrinsics", help="extrinsics: calibration file with every camera's intrinsics")
    c.add_argument("--images", nargs="*", help="board images: one folder or video per camera (for extrinsics, "
                                               "synchronised: the n-th image of every camera is the same moment)")
    c.add_argument("--origin-frame", type=int, default=None, help="world = the board in this frame (default: first camera)")
    c.add_argument("--keypoints", nargs="*", help="extrinsics from a person: OpenPose JSON folders, one per camera")
    c.add_argument("--skeleton", default=None, help="keypoint layout (default: from the data)")
    c.add_argument("--height", type=float, default=1.75, help="the person's height, m (metric scale; default 1.75)")
    c.add_argument("-o", "--output", required=True, help="calibration to write (.toml Pose2Sim/anipose, .qca.txt, .yml)")
    c.add_argument("--report", help="write a report picture (.png)")
    c.add_argument("-q", "--quiet", action="store_true")
    c.set_defaults(func=cmd_calibrate)
