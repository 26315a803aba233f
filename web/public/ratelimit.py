"""A small fixed-window rate limiter per client IP for the public (no-login) endpoints.

In-process on purpose: it needs no extra service and protects one worker against floods and
tracking-code guessing. Behind a proxy, ``remote_addr`` must be fixed with ProxyFix; with
several workers each keeps its own window (the limit is then per worker).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app, render_template, request

from ..errors import error_response, wants_json

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}

# Endpoints anyone may call without logging in (page GETs that only show a blank form are free).
LIMITED_ENDPOINTS = frozenset(
    {
        "api.create_application",
        "api.create_complaint",
        "api.track_application",
        "api.track_complaint",
        "api.resubmit_application",
        "api.upload_document",
        "public.apply_submit",
        "public.complaint_submit",
        "public.track_lookup",
        "public.track_status",
        "public.track_upload",
        "public.track_resubmit",
        "public.track_document",
        "public.verify_letter",
        "public.verify_upload",
        "public.track_letter",
        "api.verify_letter",
        "api.check_letter_bytes",
        "api.applicant_letter",
    }
)


def parse_limit(text: str) -> tuple[int, int]:
    """``"30/minute"`` → (30, 60); raises ValueError on anything else."""
    count, _, period = text.partition("/")
    if not count.strip().isdigit() or period.strip() not in PERIODS:
        raise ValueError(f"rate limit must look like '30/minute', got {text!r}")
    return int(count), PERIODS[period.strip()]


@dataclass
class FixedWindowLimiter:
    limit: int
    period: int
    _counts: dict[tuple[str, int], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str, now: float | None = None) -> int:
        """Count one request; return 0 if allowed, else the seconds until the window resets."""
        now = time.time() if now is None else now
        window = int(now // self.period)
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] == window}
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
        if count <= self.limit:
            return 0
        return max(1, int((window + 1) * self.period - now))


def init_app(app: Flask) -> None:
    limit, period = parse_limit(app.config["RATE_LIMIT_PUBLIC"])
    app.extensions["public_rate_limiter"] = FixedWindowLimiter(limit, period)

    @app.before_request
    def _limit_public() -> object | None:
        if not current_app.config.get("RATE_LIMIT_ENABLED", True) or request.endpoint not in LIMITED_ENDPOINTS:
            return None
        limiter: FixedWindowLimiter = current_app.extensions["public_rate_limiter"]
        retry_after = limiter.hit(request.remote_addr or "unknown")
        if not retry_after:
            return None
        headers = {"Retry-After": str(retry_after)}
        if wants_json():
            response = error_response(
                429, "rate_limited", f"Terlalu banyak permintaan. Coba lagi dalam {retry_after} detik."
            )
            response.headers.update(headers)
            return response
        page = render_template("public/message.html", title="Terlalu banyak permintaan", retry_after=retry_after)
        return page, 429, headers
