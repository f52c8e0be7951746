"""``emoscope doctor``: check a corpus folder before training on it."""

from emoscope.doctor.check import ERROR_CODES, DoctorReport, Problem, check_corpus, detect_corpus
from emoscope.doctor.inspect import FileReport, InspectOptions, inspect_file, wav_truncation
from emoscope.doctor.render import render_report

__all__ = [
    "ERROR_CODES",
    "DoctorReport",
    "FileReport",
    "InspectOptions",
    "Problem",
    "check_corpus",
    "detect_corpus",
    "inspect_file",
    "render_report",
    "wav_truncation",
]
