"""The database tables. Plain SQLAlchemy: the web layer binds them with Flask-SQLAlchemy."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike.

    PostgreSQL keeps ``timestamptz``. SQLite has no date type and would store 32 characters of
    text; it gets microseconds since the epoch as an integer instead (8 bytes, sorts the same).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        # bound a dozen times per change of a case: no import here (engine.clock.aware, inlined)
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":
            since = value - _EPOCH
            return (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        from .clock import aware

        if value is None:
            return None
        if isinstance(value, int):
            return _EPOCH + timedelta(microseconds=value)
        if isinstance(value, str):  # a database written before integers were used
            return aware(datetime.fromisoformat(value))
        return aware(value)


class HexDigest(TypeDecorator):
    """A SHA-256 digest: hex text in Python, 32 raw bytes in the database (half the size)."""

    impl = LargeBinary(32)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return bytes.fromhex(value) if isinstance(value, str) else value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, bytes | memoryview):
            return bytes(value).hex()
        return value  # text written before digests were stored as bytes


NIL_UUID = UUID(int=0)


class TaskId(TypeDecorator):
    """A SpiffWorkflow task id: UUID text in Python; uuid on PostgreSQL, 16 raw bytes elsewhere."""

    impl = LargeBinary(16)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID(as_uuid=False))
        return dialect.type_descriptor(LargeBinary(16))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if dialect.name != "postgresql" and isinstance(value, str) and len(value) == 36:
            # the canonical form every id here has: its 16 bytes without parsing a UUID object
            try:
                raw = bytes.fromhex(value.replace("-", ""))
            except ValueError:
                raw = b""
            if len(raw) == 16 and value[8] == value[13] == value[18] == value[23] == "-":
                return raw
        try:
            uuid = UUID(str(value))
        except ValueError:
            uuid = NIL_UUID  # not an id: matches no row (SpiffWorkflow's ids are random UUIDs)
        return str(uuid) if dialect.name == "postgresql" else uuid.bytes

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if isinstance(value, bytes | memoryview) and len(value) == 16:
            h = bytes(value).hex()  # str(UUID(bytes=...)), without the object
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        if isinstance(value, bytes | memoryview):
            return str(UUID(bytes=bytes(value)))
        return None if value is None else str(value)


def compact_json(value: Any) -> str:
    """How JSON columns are written: no padding spaces, UTF-8 kept as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    bidang: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A staff credential held by a client: a bearer token (``kind`` "api") or a browser's login
    session ("session", its secret in the session cookie). Only the SHA-256 of the secret is
    stored; revoking one deletes its row."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="api", server_default="api")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """One password attempt (web login or token request): who was tried, from where, and how it
    ended ("success", "failure", "throttled"). Never the password. Read by web/throttle.py."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))


class ProcessDefinition(Base):
    """One immutable deployed version of a procedure, with its spec serialized once."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    # heavy and immutable: loaded only when a version is restored for the first time
    files: Mapped[dict[str, str]] = mapped_column(JSON, deferred=True)
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Counter(Base):
    """Gap-free sequences (case references per kind and year, letter numbers)."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nik: Mapped[str] = mapped_column(String(16), index=True)
    kk_number: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(500))
    village_code: Mapped[str | None] = mapped_column(String(13))


class Case(Base):
    __tablename__ = "case_file"
    __table_args__ = (Index("ix_case_file_status_next_timer", "status", "next_timer_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    tracking_code_hash: Mapped[str] = mapped_column(HexDigest)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    outcome: Mapped[str | None] = mapped_column(String(64))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    # denormalised summary the inbox filters on
    service: Mapped[str | None] = mapped_column(String(32), index=True)
    ppks_category: Mapped[str | None] = mapped_column(String(64))
    applicant_name: Mapped[str | None] = mapped_column(String(200))
    village_code: Mapped[str | None] = mapped_column(String(13))
    kecamatan_code: Mapped[str | None] = mapped_column(String(8), index=True)
    bidang: Mapped[str | None] = mapped_column(String(32))
    current_step: Mapped[str | None] = mapped_column(String(200))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    # instance-only workflow state (the spec lives once in process_definition)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    serializer_version: Mapped[str] = mapped_column(String(16))
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    last_event_hash: Mapped[str] = mapped_column(HexDigest)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    definition: Mapped[ProcessDefinition] = relationship()
    person: Mapped[Person | None] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """One row per user task instance; inboxes read only this table."""

    __tablename__ = "human_task"
    # Inboxes read open tasks only (completed_at is set when a task completes or is cancelled),
    # so only those are indexed: a closed case leaves nothing in this index.
    __table_args__ = (
        Index(
            "ix_human_task_open",
            "role",
            "bidang",
            "state",
            sqlite_where=text("completed_at IS NULL"),
            postgresql_where=text("completed_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(TaskId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    spec_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    bidang: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # ready | claimed | completed | cancelled
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(64))

    case: Mapped[Case] = relationship()


class CaseEvent(Base):
    """Append-only, hash-chained audit log of a case. Never updated, never deleted."""

    __tablename__ = "case_event"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    task_id: Mapped[str | None] = mapped_column(TaskId)
    task_spec: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sha256(previous event's hash + this event's canonical body); the first event chains from
    # GENESIS_HASH. The previous hash is the previous row's, so it is not stored twice.
    hash: Mapped[str] = mapped_column(HexDigest)


class AuditAnchor(Base):
    """A signed checkpoint over every case's chain head (engine.anchors). Never updated, never deleted.

    ``heads`` lists the cases whose head moved since the previous anchor as
    ``[reference, event_count, last_event_hash]``; ``hash`` chains the anchors like a case's events.
    """

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    case_count: Mapped[int] = mapped_column(Integer)
    event_total: Mapped[int] = mapped_column(BigInteger)
    heads: Mapped[list[list[Any]]] = mapped_column(JSON)
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    certificate_sha256: Mapped[str] = mapped_column(String(64))


class Document(Base):
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    mime_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StagedUpload(Base):
    """A file a resident uploaded on its own before sending the form (engine/staging.py): already
    checked and cleaned, bound to one browser session (``owner``, a digest of the session's key),
    attached to the new case when the form is sent, discarded when it expires."""

    __tablename__ = "staged_upload"
    __table_args__ = (Index("ix_staged_upload_owner_form", "owner", "form"),)

    id: Mapped[str] = mapped_column(String(43), primary_key=True)  # secrets.token_urlsafe(32)
    owner: Mapped[str] = mapped_column(String(64))
    form: Mapped[str] = mapped_column(String(32))  # apply | complaint
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class IdempotencyRecord(Base):
    """The first answer to a request carrying an ``Idempotency-Key``."""

    __tablename__ = "idempotency_record"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccessLog(Base):
    """Who opened which case (UU PDP: say whose data was touched)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notification(Base):
    """Outbox of messages to applicants, written in the same transaction as the case change."""

    __tablename__ = "notification"
    __table_args__ = (
        # the sender's queue: unsent messages only
        Index(
            "ix_notification_unsent",
            "next_attempt_at",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
        # also the index for a case's notifications (its leading column)
        UniqueConstraint("case_id", "event_seq", "kind", name="uq_notification_case_event_kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"))
    event_seq: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(32))
    # The text is rendered from ``kind``'s template when sent; ``context`` holds the case-specific
    # parts. ``message`` is set only for text that no template makes (and rows queued before).
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str | None] = mapped_column(String(32))


class Companion(Base):
    """A social companion of the directory (TKSK per kecamatan, PSM per desa, programmes' own)."""

    __tablename__ = "companion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))  # engine.companions.ROLES
    kecamatan_code: Mapped[str] = mapped_column(String(8), index=True)
    village_code: Mapped[str | None] = mapped_column(String(13))  # a PSM's desa
    phone: Mapped[str] = mapped_column(String(20))  # E.164, "+62…"
    whatsapp: Mapped[str | None] = mapped_column(String(20))  # E.164 when not the phone number
    programme: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CompanionChange(Base):
    """Append-only record of every change to the companion directory: who, when, what."""

    __tablename__ = "companion_change"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    companion_id: Mapped[int] = mapped_column(ForeignKey("companion.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # created | updated | imported
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)  # field → [before, after]


class WeatherForecast(Base):
    """The weather cache shared by all workers: BMKG's forecast of one desa, and its refresh lease."""

    __tablename__ = "weather_forecast"

    adm4: Mapped[str] = mapped_column(String(13), primary_key=True)
    forecast: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # a worker refreshing this desa holds the lease until then (single flight across workers)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ServiceEntry(Base):
    """A service of the catalogue as an administrator set it (overrides the configured file)."""

    __tablename__ = "service_entry"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # application | complaint
    label: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500))
    process_key: Mapped[str] = mapped_column(String(64))
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdminEvent(Base):
    """Append-only log of what administrators did that concerns no case (users, catalogue)."""

    __tablename__ = "admin_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ProcedureDraft(Base):
    """An administrator's unfinished edit of a procedure's files (saved from the editor)."""

    __tablename__ = "procedure_draft"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    files: Mapped[dict[str, str]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Letter(Base):
    """An issued letter (recommendation or rejection notice): numbered, rendered once, immutable.

    Only ``status`` and the revocation columns ever change (a manager's revocation, audited).
    """

    __tablename__ = "letter"
    __table_args__ = (UniqueConstraint("series", "year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    series: Mapped[str] = mapped_column(String(32))  # rekomendasi | pemberitahuan (agency profile)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    source: Mapped[str] = mapped_column(String(128))  # the task or end event that issued it
    subject: Mapped[str] = mapped_column(String(200))
    applicant_name: Mapped[str] = mapped_column(String(200))
    service: Mapped[str | None] = mapped_column(String(32))
    verify_token: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(HexDigest, unique=True)
    size: Mapped[int] = mapped_column(Integer)
    # the signed PDF/A, exactly as issued: every download returns these bytes
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="valid")  # valid | revoked
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revocation_reason: Mapped[str | None] = mapped_column(Text)


def _guard_append_only_tables() -> None:
    from .append_only import guard_tables

    guard_tables(Base.metadata.tables)


_guard_append_only_tables()
