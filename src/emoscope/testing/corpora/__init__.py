"""Fake corpus trees: tiny generated audio files laid out with each corpus's real naming scheme.

Each module has a ``make_<corpus>(root, **options) -> Path`` that returns the corpus folder.
"""
