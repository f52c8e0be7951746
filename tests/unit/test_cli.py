"""Every subcommand has --help; errors are one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from emoscope.cli import app, main


def _commands() -> list[str]:
    return sorted(c.name or c.callback.__name__ for c in app.registered_commands)


def test_there_are_commands():
    assert {"doctor", "corpora", "manifest"} <= set(_commands())


@pytest.mark.parametrize("cmd", _commands())
def test_help_on_every_subcommand(cmd, capsys):
    assert main([cmd, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_top_level_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert main(["--version"]) == 0
    assert "emoscope 0." in capsys.readouterr().out


def test_usage_error_exit_2(capsys):
    assert main(["no-such-command"]) == 2


def test_console_script_prints_one_line_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "emoscope.cli", "doctor", str(tmp_path / "x")],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().startswith("error:") and "no such folder" in r.stderr


def test_manifest_command(tmp_path, capsys):
    from emoscope.testing.corpora.tess import make_tess

    root = make_tess(tmp_path / "t", words=("back",))
    out = tmp_path / "m.csv"
    assert main(["manifest", str(root), "--corpus", "tess", "--out", str(out),
                 "--labels", "angry,sad"]) == 0
    import pandas as pd

    df = pd.read_csv(out)
    assert len(df) == 4 and set(df.label) == {"angry", "sad"}


def test_typer_is_used_for_parsing():
    assert isinstance(app, typer.Typer)
