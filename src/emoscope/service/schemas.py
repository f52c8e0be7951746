"""The shapes of the service's answers and of the WebSocket's messages (pydantic models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AnalysisCreated",
    "AnalysisOut",
    "AnalysisPage",
    "AnalysisSummary",
    "ErrorDetail",
    "ErrorResponse",
    "Health",
    "ModelInfo",
    "PredictResponse",
    "SegmentOut",
    "StartMessage",
]

AnalysisStatus = Literal["queued", "running", "done", "failed"]


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable, e.g. `too_large`, `not_audio`.")
    message: str = Field(description="What went wrong, for a person.")


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]
    version: str = Field(description="emoscope's version.")


class ModelInfo(BaseModel):
    """The loaded model bundle."""

    version: str = Field(description="A digest of the bundle's files: changes with any of "
                                     "them.")
    labels: list[str]
    model: str = Field(description="The model's architecture, e.g. `crnn-asp`.")
    features: dict[str, Any] = Field(description="The feature extractor's name, version and "
                                                 "options.")
    sample_rate: int = Field(description="The rate audio is analysed at (any input rate is "
                                         "resampled).")
    metrics: dict[str, Any] | None = Field(description="The bundle's evaluation summary.")
    emoscope_version: str | None
    created: str | None
    model_card: str | None = Field(description="The bundle's MODEL_CARD.md (Markdown).")


class PredictResponse(BaseModel):
    label: str
    probabilities: dict[str, float]
    duration: float = Field(description="Seconds of audio in the upload.")


class AnalysisCreated(BaseModel):
    id: str
    status: AnalysisStatus


class SegmentOut(BaseModel):
    start: float
    end: float
    label: str
    probabilities: dict[str, float]


class AnalysisSummary(BaseModel):
    id: str
    created: datetime
    filename: str | None = Field(description="The client's name for the recording (display "
                                             "only).")
    source: Literal["upload", "stream"]
    status: AnalysisStatus
    error: str | None = Field(description="Why it failed.")
    duration: float | None = Field(description="Seconds of audio, when done.")
    label: str | None = Field(description="Overall label, when done (null: no speech found).")
    probabilities: dict[str, float] = Field(description="Overall probabilities, when done.")
    model_version: str | None


class AnalysisOut(AnalysisSummary):
    segments: list[SegmentOut] = Field(description="The timeline, when done: labelled "
                                                   "speech segments in time order.")


class AnalysisPage(BaseModel):
    items: list[AnalysisSummary] = Field(description="Newest first.")
    total: int
    limit: int
    offset: int


class StartMessage(BaseModel):
    """The first message of a WebSocket stream (JSON text)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["start"]
    format: Literal["pcm_s16le", "pcm_f32le", "encoded"]
    sample_rate: int | None = Field(default=None, ge=8000, le=384000,
                                    description="PCM's rate; an encoded stream has its own.")
    container: str | None = Field(default=None, max_length=100,
                                  description="Encoded only: FFmpeg's name of the container "
                                              "(`webm`, `ogg`, `mp3`, ...); found from the "
                                              "bytes when absent.")
    analysis: bool = False
    name: str | None = Field(default=None, max_length=1000)
    vad: Literal["silero", "energy"] = "silero"

    @model_validator(mode="after")
    def _check_format(self) -> StartMessage:
        if self.format != "encoded":
            if self.sample_rate is None:
                raise ValueError("a PCM stream needs its sample_rate")
            if self.container is not None:
                raise ValueError("container is for the encoded format only")
        elif self.container is not None:
            from emoscope.service.encoded import check_container

            check_container(self.container)
        return self
