"""Staff identity: argon2 password hashes, bearer tokens, Flask-Login sessions, role checks."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, g, request
from flask_login import UserMixin, current_user
from sqlalchemy import select

from engine.audit import Actor
from engine.clock import utcnow
from engine.errors import EngineError, Forbidden
from engine.models import ApiToken, User
from engine.roles import require_writer

from .extensions import db, login_manager

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser")


class NotAuthenticated(EngineError):
    code = "not_authenticated"


class LoginUser(UserMixin):
    """Flask-Login's view of a staff user."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return str(self.user.id)

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


def actor_for(user: User) -> Actor:
    return Actor(user.username, tuple(user.roles or ()), user.bidang, user.full_name)


def create_user(username: str, password: str, full_name: str, roles: list[str], bidang: str | None = None) -> User:
    user = User(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        roles=roles,
        bidang=bidang,
        active=True,
        failed_logins=0,
        created_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def issue_token(user: User, now: datetime) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"])
    db.session.add(
        ApiToken(
            token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user.id, created_at=now, expires_at=expires
        )
    )
    return token, expires


def _user_from_token(token: str) -> User | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    stmt = (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == digest, ApiToken.expires_at > utcnow(), User.active.is_(True))
    )
    return db.session.scalars(stmt).first()


def current_staff() -> User | None:
    """The user behind this request: bearer token first, then the browser session."""
    if "staff_user" in g:
        return g.staff_user
    user = None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = _user_from_token(header[7:].strip())
    elif current_user.is_authenticated:
        user = current_user.user
    g.staff_user = user
    return user


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
    {"staff.login", "staff.logout", "staff.password", "api.create_token", "api.revoke_token", "api.replay_case"}
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
    def _load(user_id: str) -> LoginUser | None:
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return LoginUser(user) if user is not None and user.active else None
