"""Folds, protocols, the protocol registry and the checks every builder runs.

A :class:`Protocol` is what an evaluation protocol turns a manifest into: a list of :class:`Fold`,
each naming the manifest ids to train on, to validate on (early stopping, model selection) and to
test on, and the speakers on each side. Ids are the manifest's ``id`` column, as strings.

Speaker-independent protocols never share a speaker between training (or validation) and test; a
protocol that does is *leaky* and says so in everything it prints:
``LEAKY: speakers shared between train and test``.

When a manifest holds more than one corpus (a cross-corpus manifest), speakers are named
``<corpus>:<speaker>`` so that RAVDESS actor ``01`` and another corpus's speaker ``01`` stay
different people.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from emoscope.corpora.labels import Emotion
from emoscope.errors import ConfigError, ProtocolError
from emoscope.registry import Registry
from emoscope.sorting import natural_key

__all__ = [
    "LEAKY_WARNING",
    "PROTOCOLS",
    "Fold",
    "Protocol",
    "ProtocolSpec",
    "check_fold",
    "register_protocol",
    "speaker_keys",
]

#: The sentence every output of a leaky protocol carries.
LEAKY_WARNING = "LEAKY: speakers shared between train and test"

#: Said of folds whose validation set shares speakers with their training set.
VALID_LEAKY_NOTE = "validation shares speakers with training (utterance-level validation split)"


@dataclass(frozen=True)
class Fold:
    """One train / validation / test split of a manifest.

    Attributes
    ----------
    name : str
        Short name, unique within its protocol (``"fold-1"``, ``"speaker-OAF"``).
    train, valid, test : tuple of str
        Manifest ids, in manifest order. ``valid`` is empty when no validation split was asked for;
        it is always drawn from the training side, never from ``test``.
    test_speakers, train_speakers, valid_speakers : tuple of str
        Speakers (the manifest's ``speaker`` column) of each part, naturally sorted.
    valid_leaky : bool
        True when the validation set shares speakers with the training set: the training side had
        too few speakers to hold whole ones out (one, in ``tess-cross-speaker``) or the protocol
        itself is utterance-level (``random``). Validation scores are then optimistic (early
        stopping and model selection still work); the test set is unaffected.
    """

    name: str
    train: tuple[str, ...]
    valid: tuple[str, ...]
    test: tuple[str, ...]
    test_speakers: tuple[str, ...]
    train_speakers: tuple[str, ...]
    valid_speakers: tuple[str, ...] = ()
    valid_leaky: bool = False

    @property
    def leaky(self) -> bool:
        """True when a test speaker also appears in training or validation."""
        return bool(set(self.test_speakers) & (set(self.train_speakers) | set(self.valid_speakers)))

    @property
    def shared_speakers(self) -> tuple[str, ...]:
        """Test speakers that also appear in training or validation."""
        side = set(self.train_speakers) | set(self.valid_speakers)
        return tuple(s for s in self.test_speakers if s in side)

    def to_dict(self, *, ids: bool = False) -> dict[str, Any]:
        """Sizes and speakers (and the ids themselves when ``ids``), JSON-ready."""
        out: dict[str, Any] = {
            "name": self.name,
            "n_train": len(self.train),
            "n_valid": len(self.valid),
            "n_test": len(self.test),
            "train_speakers": list(self.train_speakers),
            "valid_speakers": list(self.valid_speakers),
            "test_speakers": list(self.test_speakers),
            "leaky": self.leaky,
            "valid_leaky": self.valid_leaky,
        }
        if ids:
            out.update(train=list(self.train), valid=list(self.valid), test=list(self.test))
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Fold:
        """Rebuild a fold saved with ``to_dict(ids=True)``.

        Raises
        ------
        ConfigError
            The dictionary lacks the ids.
        """
        missing = [k for k in ("name", "train", "test") if k not in d]
        if missing:
            raise ConfigError(f"fold dictionary lacks {', '.join(missing)} "
                              "(was it saved with to_dict(ids=True)?)")
        return cls(
            name=str(d["name"]),
            train=tuple(map(str, d["train"])),
            valid=tuple(map(str, d.get("valid", ()))),
            test=tuple(map(str, d["test"])),
            test_speakers=tuple(map(str, d.get("test_speakers", ()))),
            train_speakers=tuple(map(str, d.get("train_speakers", ()))),
            valid_speakers=tuple(map(str, d.get("valid_speakers", ()))),
            valid_leaky=bool(d.get("valid_leaky", False)),
        )


@dataclass(frozen=True)
class Protocol:
    """The folds an evaluation protocol makes of a manifest.

    Attributes
    ----------
    name : str
        ``"ravdess-si6"``, ``"speaker-kfold-5"``, ...
    kind : str
        The registered builder that made it (``"predefined"``, ``"loso"``, ...).
    leaky : bool
        True when any fold shares a speaker between training and test. Every output says so.
    labels : tuple of str
        The label set, in order (the classes a model trained under this protocol predicts).
    folds : list of Fold
    description : str
        One or two sentences a report can print.
    options : dict
        The options the protocol was built with (seed, fractions, the JSON definition, ...).
    """

    name: str
    kind: str
    leaky: bool
    labels: tuple[str, ...]
    folds: list[Fold]
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.folds)

    def __iter__(self) -> Iterator[Fold]:
        return iter(self.folds)

    @property
    def fingerprint(self) -> str:
        """A short hash of the labels and every fold's ids: equal only for identical splits.

        Use it (not the protocol's name) to key caches of results, so that a changed split never
        reuses an old result.
        """
        content = [list(self.labels)] + [
            [f.name, sorted(f.train), sorted(f.valid), sorted(f.test)] for f in self.folds
        ]
        blob = json.dumps(content, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @property
    def warning(self) -> str:
        """:data:`LEAKY_WARNING` for a leaky protocol, else ``""``."""
        return LEAKY_WARNING if self.leaky else ""

    def to_dict(self, *, ids: bool = False) -> dict[str, Any]:
        """Everything a report prints, JSON-ready; with ``ids`` also every fold's ids.

        A leaky protocol's dictionary carries ``"warning": LEAKY_WARNING``.
        """
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "leaky": self.leaky,
            "speaker_independent": not self.leaky,
        }
        if self.leaky:
            out["warning"] = LEAKY_WARNING
        out.update(
            labels=list(self.labels),
            n_folds=len(self.folds),
            description=self.description,
            options=_jsonable(self.options),
            fingerprint=self.fingerprint,
            folds=[f.to_dict(ids=ids) for f in self.folds],
        )
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Protocol:
        """Rebuild a protocol saved with ``to_dict(ids=True)``; ``leaky`` is recomputed."""
        folds = [Fold.from_dict(f) for f in d.get("folds", [])]
        return cls(
            name=str(d.get("name", "")),
            kind=str(d.get("kind", "")),
            leaky=any(f.leaky for f in folds),
            labels=tuple(map(str, d.get("labels", ()))),
            folds=folds,
            description=str(d.get("description", "")),
            options=dict(d.get("options", {})),
        )

    def summary(self) -> str:
        """A few lines a person reads: the header, then one line per fold."""
        n = len(self.folds)
        head = (f"{self.name} ({self.kind}): {n} fold{'s' if n != 1 else ''}, "
                f"{len(self.labels)} labels, ")
        head += LEAKY_WARNING if self.leaky else "speaker-independent"
        lines = [head, f"  labels: {', '.join(self.labels)}"]
        if self.description:
            lines.append(f"  {self.description}")
        for f in self.folds:
            line = (f"  {f.name}: train {len(f.train)} ({len(f.train_speakers)} spk), "
                    f"valid {len(f.valid)}")
            if f.valid:
                line += f" ({len(f.valid_speakers)} spk{', leaky' if f.valid_leaky else ''})"
            line += (f", test {len(f.test)} ({len(f.test_speakers)} spk: "
                     f"{_short_list(f.test_speakers)})")
            if f.leaky:
                line += f"  LEAKY: {len(f.shared_speakers)} shared"
            lines.append(line)
        if any(f.valid_leaky for f in self.folds):
            lines.append(f"  note: {VALID_LEAKY_NOTE} in "
                         f"{', '.join(f.name for f in self.folds if f.valid_leaky)}")
        if self.leaky:
            lines.append(f"  {LEAKY_WARNING}: results overestimate performance on new speakers")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True)
class ProtocolSpec:
    """A registered protocol builder.

    Attributes
    ----------
    name : str
    build : callable
        ``build(manifest, **options) -> Protocol``.
    description : str
        One line for listings (``emoscope protocols``).
    speaker_independent : bool
        Whether the protocol keeps speakers apart by construction.
    """

    name: str
    build: Callable[..., Protocol]
    description: str = ""
    speaker_independent: bool = True


#: Every protocol builder emoscope knows, by kind.
PROTOCOLS: Registry[ProtocolSpec] = Registry("protocol")


def register_protocol(
    name: str,
    *,
    description: str,
    speaker_independent: bool = True,
    aliases: tuple[str, ...] = (),
) -> Callable[[Callable[..., Protocol]], Callable[..., Protocol]]:
    """Register a ``builder(manifest, **options) -> Protocol`` function as protocol ``name``."""

    def deco(fn: Callable[..., Protocol]) -> Callable[..., Protocol]:
        PROTOCOLS.register(name, aliases=aliases)(
            ProtocolSpec(name, fn, description, speaker_independent)
        )
        return fn

    return deco


def check_fold(
    fold: Fold,
    *,
    speaker_independent: bool = True,
    manifest: pd.DataFrame | None = None,
) -> Fold:
    """Check that a fold is sound; return it unchanged.

    Parameters
    ----------
    fold : Fold
    speaker_independent : bool
        Also require that no test speaker appears in training or validation.
    manifest : pd.DataFrame, optional
        Also require that every id is in the manifest and that the fold's speaker lists match the
        manifest's ``speaker`` column.

    Raises
    ------
    ProtocolError
        Empty training or test set, repeated ids, an id in two parts, shared speakers (when
        ``speaker_independent``), unknown ids or wrong speaker lists (when ``manifest`` is given).
    """
    where = f"fold {fold.name!r}"
    if not fold.train:
        raise ProtocolError(f"{where}: empty training set")
    if not fold.test:
        raise ProtocolError(f"{where}: empty test set")
    parts = {"train": fold.train, "valid": fold.valid, "test": fold.test}
    for part, ids in parts.items():
        if len(set(ids)) != len(ids):
            raise ProtocolError(f"{where}: repeated ids in {part}")
    for a, b in (("train", "valid"), ("train", "test"), ("valid", "test")):
        both = set(parts[a]) & set(parts[b])
        if both:
            raise ProtocolError(f"{where}: {len(both)} id(s) in both {a} and {b}, "
                                f"e.g. {sorted(both)[0]!r}")
    if speaker_independent and fold.leaky:
        raise ProtocolError(f"{where}: speaker(s) {', '.join(fold.shared_speakers)} in both "
                            "training (or validation) and test")
    if manifest is not None:
        spk = pd.Series(speaker_keys(manifest), index=manifest["id"].astype(str).to_numpy())
        for part, ids in parts.items():
            unknown = [i for i in ids if i not in spk.index]
            if unknown:
                raise ProtocolError(f"{where}: {part} id {unknown[0]!r} is not in the manifest")
            have = set(spk.loc[list(ids)]) if ids else set()
            said = set(getattr(fold, f"{part}_speakers"))
            if have != said:
                raise ProtocolError(f"{where}: {part}_speakers do not match the manifest")
    return fold


def speaker_keys(manifest: pd.DataFrame) -> np.ndarray:
    """Each row's speaker as a string; ``<corpus>:<speaker>`` when several corpora are mixed."""
    spk = manifest["speaker"].astype(str).to_numpy()
    if "corpus" in manifest.columns and manifest["corpus"].nunique() > 1:
        corp = manifest["corpus"].astype(str).to_numpy()
        spk = np.array([f"{c}:{s}" for c, s in zip(corp, spk, strict=True)], dtype=object)
    return spk.astype(object)


def natural_sorted(values: Iterable[str]) -> tuple[str, ...]:
    """Unique values, naturally sorted."""
    return tuple(sorted(set(values), key=natural_key))


def label_order(labels: Iterable[str], preferred: Sequence[str] = ()) -> tuple[str, ...]:
    """The label set of ``labels``: ``preferred`` order first, then canonical emotion order."""
    present = set(labels)
    out = [lab for lab in preferred if lab in present]
    rank = {e.value: i for i, e in enumerate(Emotion)}
    out += sorted(present - set(out), key=lambda lab: (rank.get(lab, len(rank)), lab))
    return tuple(out)


def _short_list(values: Sequence[str], limit: int = 8) -> str:
    if len(values) <= limit:
        return ", ".join(values)
    return ", ".join(values[:limit]) + f", ... (+{len(values) - limit})"


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)
