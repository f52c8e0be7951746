"""The ``emoscope`` command: a thin layer that parses arguments and calls the library.

Each command lives in the module of its group (:mod:`~emoscope.cli.data`,
:mod:`~emoscope.cli.training`, :mod:`~emoscope.cli.inference`, :mod:`~emoscope.cli.service`):
it parses, calls one library function and renders the result. Every error emoscope raises on
purpose is printed here as one line (``error: ...``) with exit code 1; usage errors exit with 2.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

import emoscope.cli.data as data
import emoscope.cli.inference as inference
import emoscope.cli.service as service
import emoscope.cli.training as training
from emoscope import __version__
from emoscope.cli.common import err
from emoscope.errors import EmoscopeError

__all__ = ["app", "main"]

app = typer.Typer(
    name="emoscope",
    help="Speech emotion recognition: check corpora, build honest evaluation folds, and more.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"emoscope {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Speech emotion recognition: check corpora, build honest evaluation folds, and more."""


# the commands, in the order `emoscope --help` lists them
for _name, _command in [
    ("doctor", data.doctor),
    ("explore", data.explore),
    ("train", training.train),
    ("benchmark", training.benchmark),
    ("compare", training.compare),
    ("fuse", training.fuse),
    ("evaluate", training.evaluate),
    ("corpora", data.list_corpora),
    ("manifest", data.manifest),
    ("protocols", data.list_protocols),
    ("folds", data.folds),
    ("features", data.list_features),
    ("extract", data.extract),
    ("predict", inference.predict),
    ("live", inference.live),
    ("export", inference.export_model),
    ("serve", service.serve),
]:
    app.command(_name)(_command)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``emoscope`` console script; returns the exit code."""
    try:
        rc = app(args=sys.argv[1:] if argv is None else argv, standalone_mode=False)
    except EmoscopeError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err.print("aborted")
        return 130
    except Exception as exc:
        # usage errors of typer's bundled click: print them as click would, exit 2
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code
        raise
    return rc if isinstance(rc, int) else 0
