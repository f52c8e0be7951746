"""The ``emoscope`` command line (see :mod:`emoscope.cli.main`)."""

from emoscope.cli.main import app, main

__all__ = ["app", "main"]
