"""A self-contained HTML report: one page, a little CSS, no JavaScript, no external resources.

The page references its PNGs by relative path, so a report folder (``report.html`` plus the PNGs
beside it) can be moved, zipped or opened offline as it is. Every string that comes from data
(corpus names, paths, speakers, labels, ids, error messages) is HTML-escaped.

>>> html = render_report(summary={"corpus": "tess", "files": 2798},
...                      figures=[ReportFigure("class_counts.png", "Classes", "Per label.")])
>>> '<img src="class_counts.png"' in html
True
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
import pandas as pd

from emoscope.errors import ConfigError

__all__ = ["TEMPLATE", "ReportFigure", "render_report", "summary_rows", "write_report"]

#: How many rows of a problem list are shown before the rest is folded away.
SHOW_ROWS = 200


@dataclass(frozen=True)
class ReportFigure:
    """A figure on the page.

    Attributes
    ----------
    file : str
        The PNG's path relative to the report (normally just its file name).
    title : str
    caption : str
    """

    file: str
    title: str
    caption: str = ""


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="emoscope {{ version }}">
<title>{{ title }}</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
         max-width: 1150px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
  h1 { font-size: 1.6em; margin-bottom: 0.2em; }
  h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
  .sub { color: #666; margin-top: 0; }
  table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
  th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
  th { background: #f3f3f3; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.total td { font-weight: bold; background: #fafafa; }
  table.summary th { width: 11em; }
  td.path { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.88em;
            word-break: break-all; }
  .scroll { overflow-x: auto; }
  figure { margin: 1.5em 0; }
  figure img { max-width: 100%; height: auto; border: 1px solid #e3e3e3; }
  figcaption { color: #444; font-size: 0.92em; margin-top: 0.3em; }
  .warn { background: #fff4e5; border-left: 4px solid #f0a020; padding: 0.5em 0.8em; }
  details summary { cursor: pointer; color: #444; }
  footer { color: #888; font-size: 0.85em; margin-top: 3em; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="sub">{{ subtitle }}</p>

<h2 id="summary">Summary</h2>
<table class="summary">
{% for key, value in rows %}
  <tr><th>{{ key }}</th><td{% if key == "root" %} class="path"{% endif %}>{{ value }}</td></tr>
{% endfor %}
</table>
{% if bad_files %}
<p class="warn">{{ bad_files | length }} file(s) could not be read and are left out of every
count and plot; see <a href="#unreadable">unreadable files</a>.</p>
{% endif %}
{% if table is not none %}

<h2 id="label-by-speaker">Utterances per speaker and label</h2>
<div class="scroll">
<table>
  <tr>
    <th>speaker</th>{% if has_gender %}<th>gender</th>{% endif %}
    {% for lab in table.columns %}<th class="num">{{ lab }}</th>{% endfor %}
    <th class="num">total</th>
  </tr>
{% for spk, gender, counts, total in table.rows %}
  <tr>
    <td>{{ spk }}</td>{% if has_gender %}<td>{{ gender }}</td>{% endif %}
    {% for n in counts %}<td class="num">{{ n }}</td>{% endfor %}
    <td class="num">{{ total }}</td>
  </tr>
{% endfor %}
  <tr class="total">
    <td>total</td>{% if has_gender %}<td></td>{% endif %}
    {% for n in table.totals %}<td class="num">{{ n }}</td>{% endfor %}
    <td class="num">{{ table.grand }}</td>
  </tr>
</table>
</div>
{% endif %}
{% if figures %}

<h2 id="plots">Plots</h2>
{% for fig in figures %}
<figure id="fig-{{ loop.index }}">
  <img src="{{ fig.file | urlencode }}" alt="{{ fig.title }}">
  <figcaption><strong>Figure {{ loop.index }}. {{ fig.title }}.</strong>
    {{ fig.caption }}</figcaption>
</figure>
{% endfor %}
{% endif %}
{% if examples %}

<h2 id="examples">Example files</h2>
<table>
  <tr><th>label</th><th>id</th><th class="num">duration (s)</th><th>path</th></tr>
{% for ex in examples %}
  <tr><td>{{ ex.label }}</td><td>{{ ex.id }}</td>
    <td class="num">{{ "%.2f" | format(ex.duration) }}</td><td class="path">{{ ex.path }}</td></tr>
{% endfor %}
</table>
{% endif %}
{% macro problem_table(items) %}
<table>
  <tr><th>file</th><th>reason</th></tr>
{% for path, reason in items[:show] %}
  <tr><td class="path">{{ path }}</td><td>{{ reason }}</td></tr>
{% endfor %}
</table>
{% if items | length > show %}
<p>… and {{ items | length - show }} more.</p>
{% endif %}
{% endmacro %}
{% if bad_files %}

<h2 id="unreadable">Unreadable files ({{ bad_files | length }})</h2>
<p>Listed in the manifest, but their headers could not be read; they are left out of every count
and plot.</p>
{{ problem_table(bad_files) }}
{% endif %}
{% if skipped %}

<h2 id="not-placed">Files the corpus loader did not place ({{ skipped | length }})</h2>
<details{% if skipped | length <= 20 %} open{% endif %}>
<summary>Media files under the root that do not follow the corpus's naming scheme</summary>
{{ problem_table(skipped) }}
</details>
{% endif %}
{% if notes %}

<h2 id="notes">Notes</h2>
<ul>
{% for note in notes %}
  <li>{{ note }}</li>
{% endfor %}
</ul>
{% endif %}

<footer>Written by emoscope {{ version }}. Durations are read from the file headers; only the
example files were decoded.</footer>
</body>
</html>
"""


def _fmt_counts(counts: Mapping[Any, Any], unit: str = "") -> str:
    return ", ".join(f"{k}{unit}: {v}" for k, v in counts.items())


def summary_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The summary table's rows as ``(name, text)`` pairs, from an explore summary dict.

    Known keys get a readable format; unknown keys are shown as they are, in order.
    """
    s = dict(summary)
    rows: list[tuple[str, str]] = []

    def take(key: str, name: str | None = None, fmt=str) -> None:
        if key in s:
            value = s.pop(key)
            if value is not None:
                rows.append((name or key, fmt(value)))

    take("corpus")
    take("root")
    take("files", "files", lambda v: f"{v}")
    take("unreadable", "unreadable files")
    take("not_placed", "files not placed by the loader")
    spk = s.pop("speakers", None)
    by_gender = s.pop("speakers_by_gender", None)
    if spk is not None:
        rows.append(("speakers", f"{spk}" + (f" ({_fmt_counts(by_gender)})" if by_gender else "")))
    take("genders", "utterances by gender", _fmt_counts)
    labels = s.pop("labels", None)
    label_counts = s.pop("label_counts", None)
    if labels is not None:
        if label_counts:
            text = ", ".join(f"{lab} ({label_counts.get(lab, 0)})" for lab in labels)
        else:
            text = ", ".join(map(str, labels))
        rows.append(("labels", f"{len(labels)}: {text}"))
    take("total_hours", "total duration", lambda v: f"{v:.2f} h ({v * 60:.1f} min)")
    dur = s.pop("duration_s", None)
    if dur:
        rows.append(("duration min / median / max",
                     f"{dur['min']:.2f} s / {dur['median']:.2f} s / {dur['max']:.2f} s"))
        if "mean" in dur:
            rows.append(("duration mean", f"{dur['mean']:.2f} s"))
    take("sample_rates", "sample rates", lambda v: _fmt_counts(v, " Hz"))
    take("channels", "channels", _fmt_counts)
    take("formats", "formats", _fmt_counts)
    s.pop("label_by_speaker", None)  # shown as its own table
    for k, v in s.items():
        rows.append((str(k), _fmt_counts(v) if isinstance(v, Mapping) else str(v)))
    return rows


def _table(df: pd.DataFrame | None) -> dict[str, Any] | None:
    if df is None or df.empty:
        return None
    counts = df.drop(columns=["gender"], errors="ignore")
    genders = df["gender"] if "gender" in df.columns else pd.Series("", index=df.index)
    rows = [(str(spk), str(genders.loc[spk]), [int(v) for v in counts.loc[spk]],
             int(counts.loc[spk].sum())) for spk in counts.index]
    return {"columns": [str(c) for c in counts.columns], "rows": rows,
            "totals": [int(v) for v in counts.sum(axis=0)], "grand": int(counts.to_numpy().sum())}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_report(
    *,
    summary: Mapping[str, Any],
    figures: Sequence[ReportFigure] = (),
    label_by_speaker: pd.DataFrame | None = None,
    examples: Sequence[Mapping[str, Any]] = (),
    bad_files: Sequence[tuple[str, str]] = (),
    skipped: Sequence[tuple[str, str]] = (),
    notes: Sequence[str] = (),
    title: str | None = None,
) -> str:
    """The report page as a string.

    Parameters
    ----------
    summary : mapping
        The explore summary (see :func:`emoscope.report.explore.explore`); rendered by
        :func:`summary_rows`.
    figures : sequence of ReportFigure
        PNGs with relative paths, shown in order with their captions.
    label_by_speaker : pd.DataFrame, optional
        Counts: one row per speaker (index), one column per label, and optionally a ``gender``
        column.
    examples : sequence of mapping
        The example files (``label``, ``id``, ``duration``, ``path``).
    bad_files, skipped : sequence of (path, reason)
        Unreadable files; media files the corpus loader did not place.
    notes : sequence of str
    title : str, optional
        Default: ``"<corpus>: corpus exploration"``.

    Raises
    ------
    ConfigError
        A figure path is absolute or leaves the report's folder.
    """
    for fig in figures:
        pp = PurePosixPath(fig.file.replace("\\", "/"))
        if pp.is_absolute() or ".." in pp.parts or ":" in fig.file:
            raise ConfigError(f"figure paths must be relative to the report, got {fig.file!r}")
    from emoscope import __version__

    corpus = summary.get("corpus") or "corpus"
    files = summary.get("files")
    hours = summary.get("total_hours")
    subtitle = ", ".join(p for p in (
        f"{files} files" if files is not None else "",
        f"{summary.get('speakers')} speakers" if summary.get("speakers") is not None else "",
        f"{len(summary['labels'])} labels" if summary.get("labels") is not None else "",
        f"{hours:.2f} hours" if hours is not None else "",
    ) if p)
    table = _table(label_by_speaker)
    template = _environment().from_string(TEMPLATE)
    return template.render(
        title=title or f"{corpus}: corpus exploration",
        subtitle=subtitle,
        version=__version__,
        rows=summary_rows(summary),
        table=table,
        has_gender=label_by_speaker is not None and "gender" in label_by_speaker.columns,
        figures=list(figures),
        examples=list(examples),
        bad_files=[(str(p), str(r)) for p, r in bad_files],
        skipped=[(str(p), str(r)) for p, r in skipped],
        notes=list(notes),
        show=SHOW_ROWS,
    )


def write_report(path: str | os.PathLike[str], **content: Any) -> Path:
    """Render the page (see :func:`render_report` for ``content``) and write it as UTF-8."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(**content), encoding="utf-8")
    return p
