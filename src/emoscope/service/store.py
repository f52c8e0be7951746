"""Stored analyses and their timelines: SQLite by default, PostgreSQL on request (SQLAlchemy 2).

Two tables: ``analyses`` (one row per analysis: its status, the recording's duration, the
overall label and probabilities, the model version) and ``segments`` (the timeline's segments,
in order). Tables are created when missing.

The default database is ``emoscope.db`` in the user's data folder
(``platformdirs.user_data_dir("emoscope")``, e.g. ``~/.local/share/emoscope``);
``EMOSCOPE_DB`` (a URL or a file path) overrides it. ``postgresql://`` and ``postgres://``
URLs use the psycopg (3) driver.

One server per database: at start-up, :meth:`Store.recover_interrupted` marks every analysis
still ``queued`` or ``running`` as ``failed`` (the server that ran it is gone).

>>> store = Store.open("sqlite:///analyses.db")                          # doctest: +SKIP
>>> rec = store.create(filename="talk.flac", model_version="3f2a...")    # doctest: +SKIP
>>> store.finish(rec.id, tl)                                             # doctest: +SKIP
"""

from __future__ import annotations

import enum
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    Uuid,
    create_engine,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from emoscope.inference.timeline import Segment, Timeline
from emoscope.service.errors import StoreError

__all__ = [
    "AnalysisRecord",
    "Status",
    "Store",
    "database_url",
    "default_database_path",
]

#: The message of analyses found unfinished at start-up.
INTERRUPTED = "the server stopped before this analysis finished; upload the recording again"


class Status(enum.StrEnum):
    """An analysis's life: ``queued -> running -> done | failed``."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class _Base(DeclarativeBase):
    pass


class _Analysis(_Base):
    __tablename__ = "analyses"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(64))
    probabilities: Mapped[dict[str, float] | None] = mapped_column(JSON)
    model_version: Mapped[str | None] = mapped_column(String(64))
    segments: Mapped[list[_Segment]] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", order_by="_Segment.position")


class _Segment(_Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    analysis_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("analyses.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column("start_s", Float)
    end: Mapped[float] = mapped_column("end_s", Float)
    label: Mapped[str] = mapped_column(String(64))
    probabilities: Mapped[dict[str, float]] = mapped_column(JSON)
    analysis: Mapped[_Analysis] = relationship(back_populates="segments")


@dataclass(frozen=True)
class AnalysisRecord:
    """One stored analysis (detached from the database).

    Attributes
    ----------
    id : str
        A UUID.
    created : datetime
        When it was submitted (UTC).
    filename : str or None
        The name the client gave, for display only.
    source : str
        ``"upload"`` (``POST /v1/analyses``) or ``"stream"`` (a WebSocket session).
    status : Status
    error : str or None
        Why it failed.
    duration : float or None
        Seconds of audio analysed (when done).
    label : str or None
        The overall label (``None`` when no speech was found, or not done).
    probabilities : dict of str to float
        The overall probabilities (empty when no speech was found, or not done).
    model_version : str or None
    segments : list of Segment
        The timeline (with :meth:`Store.get`; empty in listings).
    """

    id: str
    created: datetime
    filename: str | None
    source: str
    status: Status
    error: str | None
    duration: float | None
    label: str | None
    probabilities: dict[str, float]
    model_version: str | None
    segments: list[Segment] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created": self.created.isoformat(), "filename": self.filename,
                "source": self.source, "status": self.status.value, "error": self.error,
                "duration": self.duration, "label": self.label,
                "probabilities": dict(self.probabilities), "model_version": self.model_version,
                "segments": [s.to_dict() for s in self.segments]}


def default_database_path() -> Path:
    """``emoscope.db`` in the user's data folder (:meth:`Store.open` creates the folder)."""
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("emoscope", appauthor=False))
    return folder / "emoscope.db"


def database_url(url: str | os.PathLike[str] | None = None) -> str:
    """The SQLAlchemy URL of a database given as a URL, a file path, or nothing.

    Parameters
    ----------
    url : str or PathLike, optional
        ``sqlite:///...``, ``postgresql://...`` (or ``postgres://``; both get the psycopg
        driver), or a file path (SQLite). ``None``: ``$EMOSCOPE_DB``, else
        :func:`default_database_path`.

    Raises
    ------
    StoreError
        A URL of a database other than SQLite and PostgreSQL, or one that does not parse.
    """
    if url is None:
        url = os.environ.get("EMOSCOPE_DB") or default_database_path()
    text_url = os.fspath(url)
    if "://" not in text_url:
        return f"sqlite:///{Path(text_url).expanduser().resolve()}"
    scheme, rest = text_url.split("://", 1)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    if scheme == "sqlite":
        return text_url
    raise StoreError(f"unsupported database URL scheme {scheme!r}: use sqlite:///FILE or "
                     "postgresql://USER@HOST/DB")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _record(row: _Analysis, *, with_segments: bool) -> AnalysisRecord:
    segments = [Segment(s.start, s.end, s.label, dict(s.probabilities))
                for s in row.segments] if with_segments else []
    return AnalysisRecord(str(row.id), _utc(row.created), row.filename, row.source,
                          Status(row.status), row.error, row.duration, row.label,
                          dict(row.probabilities or {}), row.model_version, segments)


def _uuid(analysis_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(analysis_id))
    except ValueError:
        return None


class Store:
    """The analyses' repository. Thread-safe: every call uses its own session.

    Build it with :meth:`open`. Every method raises :class:`StoreError` when the database
    fails.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | os.PathLike[str] | None = None) -> Store:
        """Connect to a database (see :func:`database_url`) and create missing tables.

        Raises
        ------
        StoreError
            An unsupported or malformed URL; a database that cannot be reached or written.
        """
        full = database_url(url)
        try:
            parsed = make_url(full)
        except ArgumentError as exc:
            raise StoreError(f"malformed database URL: {exc}") from None
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                try:
                    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create the database's folder: {exc}") from None
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        engine = create_engine(parsed, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        try:
            _Base.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(f"cannot open the database {store.display_url}: "
                             f"{_first_line(exc)}") from None
        return store

    @property
    def display_url(self) -> str:
        """The database URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.url.get_backend_name()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # ------------------------------------------------------------------------------ writes

    def create(self, *, filename: str | None, model_version: str | None,
               source: str = "upload", status: Status = Status.QUEUED) -> AnalysisRecord:
        """Add an analysis (``queued``, or ``running`` for a live stream) and return it."""
        row = _Analysis(id=uuid.uuid4(), created=datetime.now(UTC), filename=filename,
                        source=source, status=status.value, model_version=model_version)
        try:
            with self._session() as s, s.begin():
                s.add(row)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store the analysis: {_first_line(exc)}") from None
        return _record(row, with_segments=False)

    def set_running(self, analysis_id: str) -> None:
        """Mark a queued analysis as running."""
        self._update(analysis_id, status=Status.RUNNING.value)

    def finish(self, analysis_id: str, result: Timeline) -> None:
        """Store a finished analysis's timeline and mark it ``done``."""
        key = _uuid(analysis_id)
        try:
            with self._session() as s, s.begin():
                row = s.get(_Analysis, key)
                if row is None:
                    raise StoreError(f"no analysis {analysis_id}")
                row.status, row.error = Status.DONE.value, None
                row.duration, row.label = float(result.duration), result.label
                row.probabilities = result.probabilities
                row.segments = [_Segment(position=i, start=float(seg.start), end=float(seg.end),
                                         label=seg.label, probabilities=dict(seg.probabilities))
                                for i, seg in enumerate(result.segments)]
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store the timeline: {_first_line(exc)}") from None

    def fail(self, analysis_id: str, message: str) -> None:
        """Mark an analysis ``failed`` with a message for its owner."""
        self._update(analysis_id, status=Status.FAILED.value, error=message[:2000])

    def recover_interrupted(self, message: str = INTERRUPTED) -> int:
        """Mark every ``queued`` or ``running`` analysis ``failed`` (a server that stopped
        without finishing them); returns how many."""
        try:
            with self._session() as s, s.begin():
                res = s.execute(update(_Analysis)
                                .where(_Analysis.status.in_([Status.QUEUED.value,
                                                             Status.RUNNING.value]))
                                .values(status=Status.FAILED.value, error=message))
                return int(res.rowcount or 0)  # type: ignore[attr-defined]
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot update the database: {_first_line(exc)}") from None

    def _update(self, analysis_id: str, **values: Any) -> None:
        try:
            with self._session() as s, s.begin():
                s.execute(update(_Analysis).where(_Analysis.id == _uuid(analysis_id))
                          .values(**values))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot update the database: {_first_line(exc)}") from None

    # ------------------------------------------------------------------------------- reads

    def get(self, analysis_id: str) -> AnalysisRecord | None:
        """One analysis with its segments, or ``None`` when there is no such id."""
        key = _uuid(analysis_id)
        if key is None:
            return None
        try:
            with self._session() as s:
                row = s.get(_Analysis, key)
                return None if row is None else _record(row, with_segments=True)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the database: {_first_line(exc)}") from None

    def list(self, *, limit: int = 20, offset: int = 0) -> tuple[list[AnalysisRecord], int]:
        """A page of analyses, newest first (without segments), and how many there are."""
        try:
            with self._session() as s:
                total = s.scalar(select(func.count()).select_from(_Analysis)) or 0
                rows = s.scalars(select(_Analysis)
                                 .order_by(_Analysis.created.desc(), _Analysis.id.desc())
                                 .limit(limit).offset(offset)).all()
                return [_record(r, with_segments=False) for r in rows], int(total)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the database: {_first_line(exc)}") from None

    def ping(self) -> None:
        """Raise :class:`StoreError` unless the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise StoreError(f"the database does not answer: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    """A database error's first line, without SQLAlchemy's background link."""
    msg = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return msg[0][:300] if msg else type(exc).__name__
