"""Which protocol a name means, decided once: a registered kind, a named protocol, or
cross-corpus (a kind that needs a second corpus).

The CLI (``emoscope folds``) and the experiment runner both resolve protocol names here.

>>> p = resolve("speaker-kfold", df, options={"k": 6})                    # doctest: +SKIP
>>> p = resolve("ravdess-si6", df)                                        # doctest: +SKIP
>>> p = resolve("cross-corpus", tess, test_manifest=ravdess)              # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from emoscope.errors import ConfigError, EmoscopeError
from emoscope.protocols.base import PROTOCOLS, Protocol
from emoscope.protocols.protocol_file import predefined

__all__ = ["build", "is_kind", "resolve"]


def is_kind(name: str) -> bool:
    """Whether ``name`` is a registered protocol kind or alias (else: a named protocol)."""
    try:
        PROTOCOLS.get(name)
    except EmoscopeError:
        return False
    return True


def build(kind: str, manifest: pd.DataFrame, **options: Any) -> Protocol:
    """Build protocol ``kind`` on ``manifest``.

    Parameters
    ----------
    kind : str
        A registered kind or alias: ``random``, ``speaker-kfold``, ``loso``, ``loso-session``,
        ``predefined``, ``cross-corpus``; see :func:`available`.
    manifest : pd.DataFrame
        A manifest (see :mod:`emoscope.corpora.base`).
    **options
        The builder's keyword options (see :func:`options`), e.g. ``k=5, seed=0``,
        ``valid_fraction=0.1``, or for ``predefined`` ``name="ravdess-si6", path=...``.

    Returns
    -------
    Protocol

    Raises
    ------
    UnknownNameError
        ``kind`` is not registered.
    ConfigError
        An option the builder does not take, a required option missing, or a bad value.
    ProtocolError
        The folds cannot be built from this manifest.
    """
    spec = PROTOCOLS.get(kind)
    params = list(inspect.signature(spec.build).parameters.values())[1:]
    known = {p.name for p in params}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"protocol {spec.name!r} has no option(s) {', '.join(unknown)}; "
                          f"it takes {', '.join(sorted(known))}")
    required = [p.name for p in params
                if p.default is inspect.Parameter.empty and p.name not in options]
    if required:
        raise ConfigError(f"protocol {spec.name!r} needs the option(s) {', '.join(required)}")
    return spec.build(manifest, **options)


def resolve(name: str, manifest: pd.DataFrame, *, options: Mapping[str, Any] | None = None,
            path: str | os.PathLike[str] | None = None,
            test_manifest: pd.DataFrame | None = None) -> Protocol:
    """Build the protocol ``name`` means on ``manifest``.

    Parameters
    ----------
    name : str
        A protocol kind (``speaker-kfold``, ``loso``, ``cross-corpus``, ...) or a named
        protocol of the protocols file (``ravdess-si6``, ...).
    manifest : pd.DataFrame
        The corpus (for cross-corpus: the training corpus).
    options : mapping, optional
        The kind's options (``k``, ``seed``, ``valid_fraction``, ...).
    path : path, optional
        The protocols JSON for named protocols (default: ``$EMOSCOPE_PROTOCOLS``, else the
        shipped standard protocols).
    test_manifest : pd.DataFrame, optional
        Cross-corpus: the test corpus; its rows are appended to ``manifest`` and the two
        corpora named in the options unless given.

    Raises
    ------
    ConfigError
        Bad or missing options.
    ProtocolError
        The folds cannot be built from this manifest.
    """
    opts = dict(options or {})
    if not is_kind(name):
        return predefined(manifest, name, path=path, **opts)
    if PROTOCOLS.get(name).name == "cross-corpus" and test_manifest is not None:
        merged = pd.concat([manifest, test_manifest], ignore_index=True)
        opts.setdefault("train_corpus", manifest.attrs["corpus"])
        opts.setdefault("test_corpus", test_manifest.attrs["corpus"])
        return build("cross-corpus", merged, **opts)
    return build(name, manifest, **opts)
