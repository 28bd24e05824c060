"""``mocap board`` and ``mocap calibrate intrinsics|extrinsics``: argument parsing over :mod:`mocap.calib`."""
from __future__ import annotations

from ..errors import MocapError
from .options import add_options, from_args


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


def _bars(console):
    """A progress bar per camera for :func:`mocap.pipelines.calibrate.board_views` (shown from the first camera,
    closed before a bundle adjustment's spinner: one live display at a time), and that spinner."""
    from .common import _progress

    bar = _progress(console)

    def progress(name, total):
        bar.start()
        task = bar.add_task(f"board in {name}", total=total)
        return lambda: bar.advance(task)

    def solving(what):
        bar.stop()
        return console.status(what)

    return bar, progress, solving


def cmd_calibrate(args) -> int:
    from .common import _console
    from ..calib import report
    from ..pipelines.options import CalibrationOptions
    from ..pipelines.calibrate import calibrate_extrinsics, calibrate_intrinsics

    console = _console(args)
    opts = from_args(CalibrationOptions, args)
    bar, progress, solving = _bars(console)
    if args.action == "intrinsics":
        board = _board(args)
        console.print(f"board: {board.describe()}", soft_wrap=True)
        try:
            results = calibrate_intrinsics(board, args.images, args.output, opts, names=args.names, report=args.report,
                                           progress=progress)
        finally:
            bar.stop()
        for r in results:
            for line in report.intrinsics_text(r):
                console.print(line, soft_wrap=True, markup=False)
    else:
        board = _board(args) if args.images and not args.keypoints else None
        try:
            res = calibrate_extrinsics(args.intrinsics, args.output, opts, board=board, images=args.images,
                                       keypoints=args.keypoints, report=args.report, progress=progress,
                                       solving=solving)
        finally:
            bar.stop()
        for line in report.extrinsics_text(res):
            console.print(line, soft_wrap=True, markup=False)
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
    from ..pipelines.options import CalibrationOptions

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
    add_options(c, CalibrationOptions, "fisheye", "every")
    c.add_argument("--intrinsics", help="extrinsics: calibration file with every camera's intrinsics")
    c.add_argument("--images", nargs="*", help="board images: one folder or video per camera (for extrinsics, "
                                               "synchronised: the n-th image of every camera is the same moment)")
    add_options(c, CalibrationOptions, "origin_frame")
    c.add_argument("--keypoints", nargs="*", help="extrinsics from a person: OpenPose JSON folders, one per camera")
    add_options(c, CalibrationOptions, "skeleton", "height")
    c.add_argument("-o", "--output", required=True, help="calibration to write (.toml Pose2Sim/anipose, .qca.txt, .yml)")
    c.add_argument("--report", help="write a report picture (.png)")
    c.add_argument("-q", "--quiet", action="store_true")
    c.set_defaults(func=cmd_calibrate)
