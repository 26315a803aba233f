"""Rate limits on the public endpoints and on authentication: Flask-Limiter, the only limiter.

A view declares its limit where it is defined, by the name of a setting in ``config.py``::

    @bp.post("/recover")
    @limited("RATELIMIT_RECOVERY")                 # its own counter per client
    def recover(): ...

    @limited("RATELIMIT_TRACK", scope="track")     # one counter for every view of this scope

``init_app`` (called once every blueprint is registered) gives each app its own ``Limiter`` and
wraps the marked views with its limits, so two apps in one process (the tests) never share a
limiter object — only a storage, when they name the same one. The limit strings are read from the
app's config on every request ("20/minute;200/hour", Flask-Limiter's notation).

Storage: ``RATELIMIT_STORAGE_URI`` — ``redis://127.0.0.1:6379/0`` counts across every worker and
host; ``memory://`` (the embedded default) counts per process. When Redis is unreachable the
limiter falls back to per-process memory rather than failing the request.

Clients are told apart by their address. Behind a reverse proxy, ``TRUSTED_PROXIES`` (how many
proxies stand in front) lets ProxyFix take the client's address from ``X-Forwarded-For``; with the
default 0 that header is ignored, since anyone can send it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from flask import Flask, current_app, render_template
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import error_response, wants_json
from .unit_of_work import discard

F = TypeVar("F", bound=Callable[..., Any])


class _Mark(NamedTuple):
    setting: str
    scope: str | None
    methods: tuple[str, ...] | None
    exempt_when: Callable[[], bool] | None


_MARK = "sibalang_rate_limits"
EXTENSION = "sibalang_limiter"
RATE_LIMITED_MESSAGE = "Terlalu banyak permintaan. Coba lagi dalam {seconds} detik."


def limited(
    setting: str,
    *,
    scope: str | None = None,
    methods: tuple[str, ...] | None = None,
    exempt_when: Callable[[], bool] | None = None,
) -> Callable[[F], F]:
    """Mark a view to be limited by the config setting ``setting``.

    ``scope``: views with the same scope share one counter per client (e.g. every way of trying a
    tracking code). ``methods``: only these HTTP methods count (a page that shows a form on GET).
    ``exempt_when``: a request for which it returns true is not counted.
    """

    def mark(view: F) -> F:
        marks: list[_Mark] = view.__dict__.setdefault(_MARK, [])
        marks.append(_Mark(setting, scope, methods, exempt_when))
        return view

    return mark


def _setting(name: str) -> str:
    value = current_app.config[name]
    return str(value)


def limiter_of(app: Flask) -> Limiter:
    limiter: Limiter = app.extensions[EXTENSION]
    return limiter


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("TRUSTED_PROXIES", 0) or 0)
    if proxies < 0:
        raise RuntimeError("TRUSTED_PROXIES must be 0 or the number of reverse proxies in front of the app")
    if proxies:
        # the client's address (rate limits, access logs) and scheme from the last `proxies` hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    uri = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    app.config["RATELIMIT_STORAGE_URI"] = uri
    if uri.startswith(("redis://", "rediss://", "redis+unix://")):
        # a Redis that hangs must not hang the request: short timeouts, then the memory fallback
        options = {"socket_connect_timeout": 1, "socket_timeout": 1}
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {**options, **app.config.get("RATELIMIT_STORAGE_OPTIONS", {})}
    limiter = Limiter(key_func=get_remote_address)
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter  # the Limiter binds its limits through a weak reference
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    if not limiter.enabled:
        return
    for endpoint, view in list(app.view_functions.items()):
        wrapped = view
        for mark in getattr(view, _MARK, ()):
            provider = functools.partial(_setting, mark.setting)
            options: dict[str, Any] = {
                "methods": list(mark.methods) if mark.methods else None,
                "exempt_when": mark.exempt_when,
            }
            if mark.scope:
                decorator = limiter.shared_limit(provider, scope=mark.scope, **options)
            else:
                decorator = limiter.limit(provider, **options)
            wrapped = decorator(wrapped)
        app.view_functions[endpoint] = wrapped


def retry_after_seconds() -> int:
    """Seconds until the limit this request broke lets the client in again (at least 1)."""
    limit = limiter_of(current_app).current_limit
    if limit is None:
        return 60
    return max(1, int(limit.reset_at - time.time()))


def _too_many_requests(_exc: RateLimitExceeded) -> Any:
    discard()
    seconds = retry_after_seconds()
    headers = {"Retry-After": str(seconds)}
    if wants_json():
        response = error_response(429, "rate_limited", RATE_LIMITED_MESSAGE.format(seconds=seconds))
        response.headers.update(headers)
        return response
    page = render_template("public/message.html", title="Terlalu banyak permintaan", retry_after=seconds)
    return page, 429, headers
