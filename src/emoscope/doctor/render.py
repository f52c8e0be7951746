"""Terminal rendering of a :class:`~emoscope.doctor.check.DoctorReport` (rich tables)."""

from __future__ import annotations

import os

from rich import box
from rich.console import Console, Group
from rich.table import Table

from emoscope.doctor.check import DoctorReport

__all__ = ["render_report"]


def _kv_table(title: str, rows: dict) -> Table:
    t = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    for k, v in rows.items():
        t.add_row(str(k), str(v))
    return t


def _rel(path: str, root: str) -> str:
    try:
        return os.path.relpath(path, root)
    except ValueError:
        return path


def render_report(report: DoctorReport, *, console: Console | None = None,
                  max_problems: int = 50) -> None:
    """Print ``report`` as tables: summary, label/speaker counts, duplicates, problems."""
    con = console or Console()
    s = report.summary()
    head = {
        "folder": report.root,
        "corpus": report.corpus or "not recognised (pass --corpus)",
        "files": f"{s['files']} ({s['readable']} readable, {s['unreadable']} not)",
        "audio": f"{s['hours']:.2f} h",
    }
    if s["duration_s"]:
        d = s["duration_s"]
        head["duration"] = (f"min {d['min']:.2f} s · median {d['median']:.2f} s · "
                            f"max {d['max']:.2f} s")
    head["sample rates"] = ", ".join(f"{k} Hz: {v}" for k, v in s["sample_rates"].items())
    head["channels"] = ", ".join(f"{k}: {v}" for k, v in s["channels"].items())
    head["formats"] = ", ".join(f"{k}: {v}" for k, v in s["formats"].items())
    parts: list = [_kv_table("emoscope doctor", head)]
    if report.corpus_error:
        parts.append(f"[red]corpus could not be read:[/red] {report.corpus_error}")

    counts = report.counts()
    if counts:
        labels = list(counts["labels"])
        t = Table(title=f"{counts['utterances']} utterances by speaker and label",
                  title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True)
        t.add_column("speaker", no_wrap=True)
        t.add_column("sex", no_wrap=True)
        for lab in labels:
            t.add_column(lab[:8], justify="right", no_wrap=True)
        t.add_column("total", justify="right", style="bold")
        genders = (report.manifest.groupby("speaker")["gender"].first()
                   if report.manifest is not None else {})
        for spk, row in counts["label_by_speaker"].items():
            t.add_row(spk, str(genders.get(spk, ""))[:1], *(str(row.get(lab, 0)) for lab in labels),
                      str(sum(row.values())))
        t.add_row("total", "", *(str(counts["labels"][lab]) for lab in labels),
                  str(counts["utterances"]), style="bold")
        parts.append(t)

    if report.duplicates:
        t = Table(title=f"{len(report.duplicates)} group(s) of identical audio",
                  title_justify="left")
        t.add_column("files")
        for g in report.duplicates:
            t.add_row("\n".join(_rel(p, report.root) for p in g))
        parts.append(t)

    probs = [p for p in report.problems if p.code != "duplicate"]
    if probs:
        t = Table(title=f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)",
                  title_justify="left")
        for col in ("severity", "problem", "file", "detail"):
            t.add_column(col)
        for p in probs[:max_problems]:
            style = "red" if p.severity == "error" else "yellow"
            t.add_row(f"[{style}]{p.severity}[/{style}]", p.code, _rel(p.path, report.root),
                      p.message)
        if len(probs) > max_problems:
            t.add_row("", "", f"... and {len(probs) - max_problems} more (use --json)", "")
        parts.append(t)
    elif not report.duplicates:
        parts.append("[green]no problems found[/green]")
    con.print(Group(*parts))
