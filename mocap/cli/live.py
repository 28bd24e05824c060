"""``mocap live`` (camera/video/stream -> VMC + BVH, as it happens) and ``mocap blender-addon`` (the receiver)."""
from __future__ import annotations

import signal
import threading
import time
import zipfile
from pathlib import Path

from rich.table import Table

from ..errors import MocapError
from .common import _console, add_contacts_option

ADDON = Path(__file__).parents[1] / "data" / "blender" / "mocap_vmc"


def _endpoint(value: str | None) -> tuple[str, int] | None:
    """``HOST:PORT`` (or ``PORT``, or ``none``) -> (host, port)."""
    from ..io.vmc import DEFAULT_PORT

    if value is None:
        return "127.0.0.1", DEFAULT_PORT
    if value.lower() == "none":
        return None
    host, _, port = value.rpartition(":")
    try:
        port_n = int(port)
    except ValueError:
        raise MocapError(f"--vmc takes HOST:PORT (e.g. 127.0.0.1:39539), not {value!r}") from None
    if not 0 < port_n < 65536:
        raise MocapError(f"--vmc port must be 1-65535, not {port_n}")
    return (host.strip("[]") or "127.0.0.1"), port_n


def cmd_live(args) -> int:
    from ..pipelines.live import LiveOptions, run_live

    console = _console(args)
    record = Path(args.record) if args.record else None
    if record is not None and record.suffix.lower() != ".bvh":
        raise MocapError("--record writes a .bvh file", record)
    opts = LiveOptions(args.source, _endpoint(args.vmc), record, rig=args.rig, units=args.units,
                       realtime=not args.as_fast, focal=args.focal,
                       weights=Path(args.weights) if args.weights else None, max_frames=args.frames,
                       max_seconds=args.seconds, contacts=args.contacts == "auto")
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
    lv = sub.add_parser("live", help="camera, video or stream -> skeleton sent over VMC (and recorded to BVH) as it happens")
    lv.add_argument("source", help="camera index (0), video file, or stream URL (rtsp://, http://)")
    lv.add_argument("--vmc", default=None, metavar="HOST:PORT",
                    help="where to send the VMC stream (default 127.0.0.1:39539; 'none': do not send)")
    lv.add_argument("--record", default=None, help="also write what was sent as BVH when stopped (Ctrl-C included)")
    lv.add_argument("--rig", default="mixamo", help="bone naming of the recording: generic, mixamo (default), cmu, smpl")
    lv.add_argument("--units", default="cm", choices=["m", "cm", "mm"], help="units of the recording (default cm)")
    lv.add_argument("--focal", type=float, default=None, help="camera focal length, px (default: larger image side)")
    lv.add_argument("--weights", default=None, help="causal lifter weights (default: the shipped ones)")
    lv.add_argument("--frames", type=int, default=None, help="stop after this many processed frames")
    lv.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    lv.add_argument("--as-fast", action="store_true",
                    help="a video file: take every frame as fast as the machine goes (default: at its own frame rate)")
    add_contacts_option(lv, "causal, after the first second: ")
    lv.add_argument("-q", "--quiet", action="store_true")
    lv.set_defaults(func=cmd_live)

    ba = sub.add_parser("blender-addon", help="write the Blender add-on that receives VMC (mocap live) into an armature")
    ba.add_argument("-o", "--output", required=True, help="the add-on .zip")
    ba.add_argument("-q", "--quiet", action="store_true")
    ba.set_defaults(func=cmd_blender_addon)
