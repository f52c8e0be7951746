"""The canonical emotion vocabulary and each corpus's mapping onto it.

Every corpus names its emotions its own way (TESS ``ps``, EmoDB ``W``, IEMOCAP ``exc``). The
manifest keeps the corpus's own name in ``raw_label`` and the canonical name in ``label``, so that
models trained on one corpus can be tested on another, and users pick label subsets by one name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from emoscope.errors import ConfigError

__all__ = ["Emotion", "Gender", "resolve_labels"]


class Emotion(StrEnum):
    """Canonical emotion names used in every manifest's ``label`` column."""

    NEUTRAL = "neutral"
    CALM = "calm"
    HAPPY = "happy"
    SAD = "sad"
    ANGRY = "angry"
    FEARFUL = "fearful"
    DISGUST = "disgust"
    SURPRISED = "surprised"
    BOREDOM = "boredom"
    FRUSTRATED = "frustrated"
    EXCITED = "excited"
    CONTEMPT = "contempt"
    OTHER = "other"


class Gender(StrEnum):
    """Values of the manifest's ``gender`` column."""

    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


#: Common spellings of canonical names, accepted wherever a label is asked for.
SYNONYMS: dict[str, Emotion] = {
    "neu": Emotion.NEUTRAL,
    "hap": Emotion.HAPPY,
    "happiness": Emotion.HAPPY,
    "joy": Emotion.HAPPY,
    "sadness": Emotion.SAD,
    "ang": Emotion.ANGRY,
    "anger": Emotion.ANGRY,
    "fear": Emotion.FEARFUL,
    "fea": Emotion.FEARFUL,
    "disgusted": Emotion.DISGUST,
    "dis": Emotion.DISGUST,
    "surprise": Emotion.SURPRISED,
    "sur": Emotion.SURPRISED,
    "ps": Emotion.SURPRISED,
    "pleasant_surprise": Emotion.SURPRISED,
    "bored": Emotion.BOREDOM,
    "fru": Emotion.FRUSTRATED,
    "frustration": Emotion.FRUSTRATED,
    "exc": Emotion.EXCITED,
    "excitement": Emotion.EXCITED,
    "oth": Emotion.OTHER,
}


def canonical_emotion(name: str, corpus_map: Mapping[str, str] | None = None) -> str:
    """Map a label name (canonical, a synonym, or the corpus's own code) to its canonical name.

    Raises
    ------
    ConfigError
        The name is not known.
    """
    key = str(name).strip()
    if corpus_map and key in corpus_map:
        return corpus_map[key]
    low = key.lower()
    if corpus_map:
        lowered = {k.lower(): v for k, v in corpus_map.items()}
        if low in lowered:
            return lowered[low]
    if low in Emotion._value2member_map_:
        return low
    if low in SYNONYMS:
        return SYNONYMS[low].value
    known = ", ".join(e.value for e in Emotion)
    raise ConfigError(f"unknown emotion label {name!r}; canonical labels are: {known}")


def resolve_labels(
    names: Iterable[str], corpus_map: Mapping[str, str] | None = None
) -> list[str]:
    """Canonical names for a user's label subset, in the order given, without repeats."""
    out: list[str] = []
    for n in names:
        c = canonical_emotion(n, corpus_map)
        if c not in out:
            out.append(c)
    return out
