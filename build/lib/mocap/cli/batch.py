"""``mocap batch``: every trial of a session (a Pose2Sim-style folder or a TOML/CSV manifest), locally or on Ray."""
from __future__ import annotations

from rich.table import Table

from ..errors import MocapError
from .common import _console, _progress

STYLE = {"done": "green", "up to date": "dim", "failed": "red", "not run": "yellow", "would run": "cyan"}


def cmd_batch(args) -> int:
    from ..batch.engine import BatchOptions, run_session
    from ..batch.report import write_summary
    from ..batch.session import read_session

    console = _console(args)
    if args.jobs < 1:
        raise MocapError(f"--jobs must be >= 1, not {args.jobs}")
    if not args.cpus_per_task > 0:
        raise MocapError(f"--cpus-per-task must be > 0, not {args.cpus_per_task}")
    overrides = {"batch": {"stages": args.stages}} if args.stages else {}
    session = read_session(args.session, args.config, overrides)
    opts = BatchOptions(args.jobs, args.ray, args.cpus_per_task, args.force, args.dry_run)
    with _progress(console) as prog:
        bar = prog.add_task("trials' stages", total=1)

        def on_event(kind, r):
            if kind == "plan":
                prog.update(bar, total=len(r.tasks))
            elif kind == "end":
                prog.advance(bar)
                if r.status in ("done", "failed"):
                    took = f" {r.record.get('seconds', 0):.1f} s" if r.record else ""
                    why = f": {r.error}" if r.error else ""
                    console.print(f"[{STYLE[r.status]}]{r.status:>6}[/] {r.id}{took}{why}", soft_wrap=True)

        result = run_session(session, opts, on_event, getattr(args, "verbose", False))
    _table(console, result, args.dry_run)
    for name, why in result.trial_errors.items():
        console.print(f"[red]trial {name}[/]: {why}", soft_wrap=True)
    if args.dry_run:
        return 0
    csv_path, md_path = write_summary(session, result)
    failed = result.failed_trials()
    console.print(f"{len(session.trials) - len(failed)} of {len(session.trials)} trials ok in {result.seconds:.1f} s; "
                  f"wrote {csv_path} and {md_path}", soft_wrap=True)
    if result.interrupted:
        console.print("interrupted: finished outputs kept, nothing half-written left; run again to go on")
        return 128 + result.signal
    return 1 if failed else 0


def _table(console, result, dry_run: bool) -> None:
    t = Table(title="would run" if dry_run else "tasks", title_justify="left")
    for col in ("trial", "stage", "status", "s"):
        t.add_column(col, justify="right" if col == "s" else "left")
    for r in result.tasks:
        secs = f"{r.record['seconds']:.1f}" if r.status == "done" and r.record else ""
        t.add_row(r.trial, r.stage, f"[{STYLE.get(r.status, '')}]{r.status}[/]", secs)
    console.print(t)


def add_commands(sub) -> None:
    b = sub.add_parser("batch", help="every trial of a session: detect, sync, triangulate or lift, retarget, preview "
                                     "(resumable; local processes or Ray)")
    b.add_argument("session", help="session folder (Pose2Sim layout: calibration/, trials with pose/ or videos/) or "
                                   "a manifest .toml / .csv")
    b.add_argument("--config", help="TOML of defaults read before the session's own Config.toml / mocap.toml files")
    b.add_argument("--stages", nargs="+", choices=["detect", "sync", "triangulate", "lift", "retarget", "preview"],
                   help="stages to run where they apply (default: batch.stages, or detect triangulate lift retarget)")
    b.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (default 1; with --ray and no "
                                                             "address: the CPUs of the local Ray)")
    b.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run the tasks on Ray: a local Ray, or the cluster at ADDRESS (pip install "
                        "'mocap-pipeline[batch]')")
    b.add_argument("--cpus-per-task", type=float, default=1.0, help="CPUs each task declares to Ray (default 1)")
    b.add_argument("--force", action="store_true", help="redo every task, even those up to date")
    b.add_argument("--dry-run", action="store_true", help="list what would run, run nothing")
    b.add_argument("-q", "--quiet", action="store_true")
    b.set_defaults(func=cmd_batch)
