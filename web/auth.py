"""Staff identity: argon2 password hashes, the one ``authenticate()``, credentials, role checks.

Credentials are ``api_token`` rows: bearer tokens (``POST /api/v1/auth/token``) and browser login
sessions, both stored as SHA-256 of their secret, both listed and revoked the same way. Logout
deletes the session's row; a password change or an administrator deletes all of a user's rows;
every request looks its row up, so a deleted one stops working at once."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, g, request, session
from flask_login import UserMixin, current_user, login_user, logout_user
from sqlalchemy import Table, bindparam, select, update

from engine.audit import Actor
from engine.clock import aware, utcnow
from engine.errors import EngineError, Forbidden
from engine.models import ApiToken, User
from engine.roles import require_writer
from engine.text import N_

from . import throttle
from .extensions import db, login_manager

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser")

API, SESSION = "api", "session"
WRONG_CREDENTIALS = N_("Nama pengguna atau kata sandi salah.")
THROTTLED = N_("Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(seconds)s detik.")
# a credential's last use is written at most this often (not on every request)
LAST_USED_PRECISION = timedelta(minutes=10)


class NotAuthenticated(EngineError):
    code = "not_authenticated"


class LoginRefused(Exception):
    """Why a login failed, in words the user may see (never whether the username exists).

    ``text`` is the Indonesian message id with ``params``; ``retry_after`` is set (seconds) when
    the attempt was throttled and no password was checked."""

    def __init__(self, text: str, retry_after: int = 0, **params: Any) -> None:
        super().__init__(text % params if params else text)
        self.text, self.params, self.retry_after = text, params, retry_after


@dataclass(frozen=True)
class Staff:
    """The staff user behind a request's live credential, as every request needs it: read with
    the credential in one Core statement (building ORM objects for them cost more than the query
    itself on every request). A view that changes the user loads its row with :meth:`account`."""

    id: int
    username: str
    full_name: str
    roles: tuple[str, ...]
    bidang: str | None
    active: bool
    credential_id: int
    credential_kind: str

    @classmethod
    def of(cls, user: User, credential: ApiToken) -> Staff:
        return cls(
            user.id,
            user.username,
            user.full_name,
            tuple(user.roles or ()),
            user.bidang,
            user.active,
            credential.id,
            credential.kind,
        )

    def account(self) -> User:
        """The user's ORM row (this request's session), for a view that changes it."""
        user = db.session.get(User, self.id)
        if user is None:
            raise NotAuthenticated("Silakan masuk (login) terlebih dahulu")
        return user


class LoginUser(UserMixin):
    """Flask-Login's view of a staff user signed in by one ``session`` credential.

    ``get_id`` is the credential's secret, not the user's id (Flask-Login's "alternative tokens"):
    the session cookie names a row that logout, a password change or an administrator deletes."""

    def __init__(self, user: Staff, secret: str) -> None:
        self.user, self.secret = user, secret

    def get_id(self) -> str:
        return self.secret

    @property
    def is_active(self) -> bool:
        return self.user.active


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password in constant-ish time whether or not the user exists."""
    if user is None or not user.active:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def client_address() -> str:
    """The client's address (the real one behind TRUSTED_PROXIES, see web/limits.py)."""
    return (request.remote_addr or "unknown")[:64]


def authenticate(username: str, password: str, now: datetime) -> User:
    """The one password check of the web login and ``POST /api/v1/auth/token``.

    Refuses without checking the password while this client must wait (web/throttle.py), and
    records every attempt in ``login_attempt``. Raises LoginRefused. The caller's unit of work
    must commit the record even when it refuses (answer the error, do not raise past the view)."""
    name = username.strip().lower()[:64]
    client = client_address()
    wait = throttle.wait_seconds(db.session, name, client, now, throttle.Policy.from_config(current_app.config))
    if wait:
        throttle.record(db.session, name, client, throttle.THROTTLED, now)
        raise LoginRefused(THROTTLED, retry_after=wait, seconds=wait)
    user = db.session.scalars(select(User).where(User.username == name)).first()
    if not verify_password(user, password):
        throttle.record(db.session, name, client, throttle.FAILURE, now)
        raise LoginRefused(WRONG_CREDENTIALS)
    assert user is not None
    throttle.record(db.session, name, client, throttle.SUCCESS, now)
    return user


def actor_for(user: User | Staff) -> Actor:
    return Actor(user.username, tuple(user.roles or ()), user.bidang, user.full_name)


def create_user(username: str, password: str, full_name: str, roles: list[str], bidang: str | None = None) -> User:
    user = User(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        roles=roles,
        bidang=bidang,
        active=True,
        created_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User | Staff, now: datetime, kind: str = API) -> tuple[str, ApiToken]:
    """A new credential for ``user``: (the secret, shown once; its row, holding only the hash)."""
    secret = secrets.token_urlsafe(32)
    hours = current_app.config["API_TOKEN_TTL_HOURS" if kind == API else "STAFF_SESSION_HOURS"]
    row = ApiToken(
        token_hash=_digest(secret),
        user_id=user.id,
        kind=kind,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        last_used_at=now,
        client_address=client_address(),
        user_agent=(request.user_agent.string or "")[:200] or None,
    )
    db.session.add(row)
    db.session.flush()
    return secret, row


def start_session(user: User, now: datetime) -> None:
    """Sign this browser in as ``user`` with a fresh ``session`` credential."""
    session.clear()  # a fresh session for the new identity
    secret, row = issue_token(user, now, SESSION)
    staff = Staff.of(user, row)
    login_user(LoginUser(staff, secret))
    g.staff_user = staff


def end_session() -> None:
    """Log this browser out and revoke its credential (a copied cookie dies with it)."""
    credential = current_credential()
    if credential is not None and credential.kind == SESSION:
        db.session.delete(credential)
        db.session.flush()
    logout_user()
    session.clear()


def revoke_all(user: User | Staff) -> int:
    """Delete every token and login session of ``user``; the number revoked."""
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return len(rows)


def credentials_of(user: User | Staff) -> list[ApiToken]:
    """The user's live tokens and sessions, newest first."""
    stmt = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.expires_at > utcnow())
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.scalars(stmt))


_TOKENS = cast(Table, ApiToken.__table__)
_USERS = cast(Table, User.__table__)
# The credential and its user in one statement, built once (values bound at execution), on the
# tables' columns: a plain Core select skips the ORM's loading, most of this query's cost.
_LIVE_CREDENTIAL = (
    select(
        _USERS.c.id,
        _USERS.c.username,
        _USERS.c.full_name,
        _USERS.c.roles,
        _USERS.c.bidang,
        _USERS.c.active,
        _TOKENS.c.id,
        _TOKENS.c.kind,
        _TOKENS.c.last_used_at,
    )
    .select_from(_TOKENS.join(_USERS, _TOKENS.c.user_id == _USERS.c.id))
    .where(
        _TOKENS.c.token_hash == bindparam("digest"),
        _TOKENS.c.kind == bindparam("kind"),
        _TOKENS.c.expires_at > bindparam("now"),
        _USERS.c.active.is_(True),
    )
)
_TOUCH_CREDENTIAL = update(_TOKENS).where(_TOKENS.c.id == bindparam("credential")).values(last_used_at=bindparam("now"))


def _live_credential(secret: str, kind: str) -> Staff | None:
    """The staff user of a live credential of ``kind`` with this secret (None: none such)."""
    now = utcnow()
    found = db.session.execute(_LIVE_CREDENTIAL, {"digest": _digest(secret), "kind": kind, "now": now}).first()
    if found is None:
        return None
    user_id, username, full_name, roles, bidang, active, credential_id, credential_kind, last_used = found
    if last_used is None or aware(last_used) < now - LAST_USED_PRECISION:
        # committed with the request's unit of work
        db.session.execute(_TOUCH_CREDENTIAL, {"credential": credential_id, "now": now})
    return Staff(user_id, username, full_name, tuple(roles or ()), bidang, bool(active), credential_id, credential_kind)


def current_staff() -> Staff | None:
    """The user behind this request: bearer token first, then the browser session."""
    if "staff_user" in g:
        staff: Staff | None = g.staff_user
        return staff
    staff = None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        staff = _live_credential(header[7:].strip(), API)
    elif current_user.is_authenticated:
        staff = current_user.user
    g.staff_user = staff
    return staff


def current_credential() -> ApiToken | None:
    """The token or session row that authenticated this request (None: anonymous), loaded for
    the few views that show or delete it."""
    staff = current_staff()
    return db.session.get(ApiToken, staff.credential_id) if staff is not None else None


def staff_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a logged-in staff user, holding one of ``roles`` when given."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_staff()
            if user is None:
                raise NotAuthenticated("Silakan masuk (login) terlebih dahulu")
            if roles and not set(roles) & set(user.roles or ()):
                raise Forbidden("Peran Anda tidak berhak mengakses ini")
            return view(*args, **kwargs)

        wrapper._staff_roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorator


def current_actor() -> Actor:
    user = current_staff()
    if user is None:
        raise NotAuthenticated("Silakan masuk (login) terlebih dahulu")
    return actor_for(user)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What a read-only role (auditor) may still POST: its own session and password, and reading
# actions that are POSTs only because they compute (replay, the audit pages).
READ_ONLY_MAY_POST = frozenset(
    {
        "staff.login",
        "staff.logout",
        "staff.password",
        "staff.revoke_credential",
        "api.create_token",
        "api.revoke_token",
        "api.revoke_current_token",
        "api.replay_case",
    }
)
READ_ONLY_BLUEPRINTS = frozenset({"audit"})


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    return bool(origin) and origin == request.host_url.rstrip("/")


def _guard_cookie_api_call() -> None:
    """A state-changing API call authenticated by the browser's session cookie must come from
    our own pages: the ``Origin`` header names this site, or the request carries the session's
    CSRF token (``X-CSRFToken``). Bearer-token clients are not affected (browsers never attach
    that header on their own). Raises CSRFError (400)."""
    from .extensions import csrf

    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return
    if not current_user.is_authenticated or _same_origin():
        return
    csrf.protect()


def _guard_request() -> None:
    if request.method not in UNSAFE_METHODS:
        return
    if request.path.startswith("/api/"):
        _guard_cookie_api_call()
    endpoint = request.endpoint or ""
    if endpoint in READ_ONLY_MAY_POST or endpoint.partition(".")[0] in READ_ONLY_BLUEPRINTS:
        return
    if endpoint.startswith("public."):
        return  # the public pages act for the applicant, never for a logged-in user
    user = current_staff()
    if user is not None:
        require_writer(actor_for(user))


def init_app(app: Flask) -> None:
    app.before_request(_guard_request)

    @login_manager.user_loader
    def _load(secret: str) -> LoginUser | None:
        staff = _live_credential(secret, SESSION)
        return LoginUser(staff, secret) if staff is not None else None
