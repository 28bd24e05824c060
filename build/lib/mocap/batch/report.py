"""The session summary: ``summary.csv`` (one row per trial, its quality numbers) and ``report.md`` (the same
table, the failed trials with their errors, and each trial's quality picture), written atomically."""
from __future__ import annotations

import csv
import os
from pathlib import Path

from ..io.atomic import atomic_open
from .engine import BatchResult
from .session import Session

COLUMNS = ("trial", "status", "stages", "frames", "valid_pct", "reprojection_px", "jitter_m_s2", "bone_cv_pct",
           "seconds", "outputs", "error")


def trial_rows(session: Session, result: BatchResult) -> list[dict]:
    """One dict per trial (:data:`COLUMNS`), with the numbers of its latest records (this run's or earlier)."""
    rows = []
    failed = result.failed_trials()
    for trial in session.trials:
        mine = [t for t in result.tasks if t.trial == trial.name]
        row = {"trial": trial.name, "stages": " ".join(f"{t.stage}:{t.status}" for t in mine)}
        quality, outputs, seconds = {}, [], 0.0
        for t in mine:
            if t.record and t.record.get("status") == "done":
                quality.update(t.record.get("quality", {}))
                outputs += t.record.get("outputs", [])
                seconds += t.record.get("seconds", 0.0) if t.status == "done" else 0.0
        row.update({k: quality.get(k, "") for k in COLUMNS if k in quality})
        row["outputs"] = ";".join(os.path.relpath(p, session.summary_dir) for p in outputs)
        row["seconds"] = round(seconds, 2)
        if trial.name in failed:
            row["status"], row["error"] = "failed", failed[trial.name]
        elif any(t.status in ("not run", "pending", "running", "would run") for t in mine):
            row["status"] = "interrupted" if result.interrupted else ("to run" if any(
                t.status == "would run" for t in mine) else "not run")
        else:
            row["status"] = "ok"
        rows.append(row)
    return rows


def write_summary(session: Session, result: BatchResult) -> tuple[Path, Path]:
    """``<summary_dir>/summary.csv`` and ``report.md``; returns their paths."""
    rows = trial_rows(session, result)
    out = session.summary_dir
    with atomic_open(out / "summary.csv", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    ok = sum(r["status"] == "ok" for r in rows)
    lines = [f"# Session {session.root.name}", "",
             f"{ok} of {len(rows)} trials ok; tasks this run: {result.count('done')} run, "
             f"{result.count('up to date')} up to date, {result.count('failed')} failed, "
             f"{result.count('not run')} not run" + (" (interrupted)" if result.interrupted else "")
             + f"; {result.seconds:.1f} s.", "",
             "| " + " | ".join(c for c in COLUMNS if c not in ("outputs", "error")) + " |",
             "|" + "---|" * (len(COLUMNS) - 2)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in COLUMNS if c not in ("outputs", "error")) + " |" for r in rows]
    bad = [r for r in rows if r["status"] == "failed"]
    if bad:
        lines += ["", "## Failed trials", ""] + [f"- **{r['trial']}**: {r['error']}" for r in bad]
    pictures = [(r["trial"], p) for r in rows for p in r["outputs"].split(";") if p.endswith(".png")]
    if pictures:
        lines += ["", "## Quality over time (reprojection error per camera, bone lengths)", ""]
        lines += [f"### {name}\n\n![{name}]({p})\n" for name, p in pictures]
    with atomic_open(out / "report.md") as f:
        f.write("\n".join(lines) + "\n")
    return out / "summary.csv", out / "report.md"
