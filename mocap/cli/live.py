"""``mocap live`` (camera/video/stream -> VMC + BVH, as it happens) and ``mocap blender-addon`` (the receiver)."""
from __future__ import annotations

import signal
import threading
import time
import zipfile
from pathlib import Path

from rich.table import Table

from ..errors import MocapError
from .common import _console
from .options import add_options, from_args

ADDON = Path(__file__).parents[1] / "data" / "blender" / "mocap_vmc"


def cmd_live(args) -> int:
    from ..pipelines.options import LiveOptions
    from ..pipelines.live import run_live

    console = _console(args)
    opts = from_args(LiveOptions, args, source=args.source)
    record = opts.record
    stop = threading.Event()

    def interrupt(signum, frame):  # Ctrl-C or SIGTERM: stop after this frame (a second Ctrl-C: at once)
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    if not console.quiet:
        where = f"VMC to {opts.vmc[0]}:{opts.vmc[1]}" if opts.vmc else "not sending"
        console.print(f"live from {args.source}: {where}" + (f", recording {record}" if record else "")
                      + "; Ctrl-C stops", soft_wrap=True)
    status = console.status("starting", spinner="dots")
    last = [0.0]

    def show(res):  # at most twice a second
        now = time.perf_counter()
        if now - last[0] >= 0.5 and res.latency["total"]:
            last[0] = now
            recent = sorted(res.latency["total"][-30:])
            status.update(f"frame {res.processed}: latency {recent[len(recent) // 2]:.0f} ms, {res.dropped} dropped, "
                          f"{res.nobody} with nobody")

    try:
        with status:
            res = run_live(opts, on_frame=None if console.quiet else show, stop=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _report(console, res)
    if res.processed == 0:
        raise MocapError(f"no frame processed ({res.stopped})", args.source)
    return 0


def _report(console, res) -> None:
    console.print(f"live: {res.captured} frames captured, {res.processed} processed, {res.dropped} dropped, "
                  f"{res.sent} packets sent; {res.stopped}", soft_wrap=True)
    table = Table()
    table.add_column("latency (ms)")
    table.add_column("median", justify="right")
    table.add_column("p95", justify="right")
    for k, (m, p) in res.latency_summary().items():
        table.add_row("end to end" if k == "total" else k, f"{m:.1f}", f"{p:.1f}")
    console.print(table)
    for note in res.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    if res.recording:
        console.print(f"wrote {res.recording}: {res.recorded_frames} frames", soft_wrap=True)


def cmd_blender_addon(args) -> int:
    """Zip the Blender add-on (``mocap_vmc/__init__.py``) for Edit > Preferences > Add-ons > Install from Disk."""
    from ..io.atomic import atomic_path

    out = Path(args.output)
    if out.suffix.lower() != ".zip":
        raise MocapError("the add-on is written as a .zip", out)
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(ADDON / "__init__.py", "mocap_vmc/__init__.py")
    _console(args).print(f"wrote {out}: install it in Blender (Edit > Preferences > Add-ons > Install from Disk), "
                         "then View3D sidebar > VMC", soft_wrap=True)
    return 0


def add_commands(sub) -> None:
    from ..pipelines.options import LiveOptions

    lv = sub.add_parser("live", help="camera, video or stream -> skeleton sent over VMC (and recorded to BVH) as it happens")
    lv.add_argument("source", help="camera index (0), video file, or stream URL (rtsp://, http://)")
    add_options(lv, LiveOptions, "vmc", "record", "rig", "units", "focal", "weights", "max_frames", "max_seconds",
                "realtime", "contacts", "hands")
    lv.add_argument("-q", "--quiet", action="store_true")
    lv.set_defaults(func=cmd_live)

    ba = sub.add_parser("blender-addon", help="write the Blender add-on that receives VMC (mocap live) into an armature")
    ba.add_argument("-o", "--output", required=True, help="the add-on .zip")
    ba.add_argument("-q", "--quiet", action="store_true")
    ba.set_defaults(func=cmd_blender_addon)
