"""Login throttling: progressive delays computed from the ``login_attempt`` record.

Hand-written because what it decides is the project's policy, not a mechanism a library offers:
Flask-Limiter (web/limits.py) caps requests per client; this module answers "may this client try
this account's password now?" from the audit record of attempts, so it needs no storage of its
own and every refusal is explained by rows an administrator can read.

Three scopes, each with a number of free failures and then a delay that doubles per further
failure (1 s, 2 s, 4 s … up to a cap), counted within a window and since the scope's last success:

* the account from this client — the ordinary case (a mistyped password costs seconds);
* this client, any account — one address spraying passwords over many accounts;
* the account from any client — many addresses on one account. This scope never applies to a
  client the account logged in from successfully in the last ``LOGIN_KNOWN_CLIENT_DAYS``, and its
  delay is capped low, so an attacker cannot keep the real user out: nothing here is a lock.

A refused ("throttled") attempt checks no password and does not count as a failure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import aware
from engine.models import LoginAttempt

SUCCESS, FAILURE, THROTTLED = "success", "failure", "throttled"


@dataclass(frozen=True)
class Policy:
    window: timedelta
    free_failures: int
    max_delay: int
    client_free_failures: int
    account_free_failures: int
    account_max_delay: int
    known_client: timedelta

    @classmethod
    def from_config(cls, config: Any) -> Policy:
        return cls(
            window=timedelta(minutes=config["LOGIN_THROTTLE_WINDOW_MINUTES"]),
            free_failures=config["LOGIN_FREE_FAILURES"],
            max_delay=config["LOGIN_MAX_DELAY_SECONDS"],
            client_free_failures=config["LOGIN_CLIENT_FREE_FAILURES"],
            account_free_failures=config["LOGIN_ACCOUNT_FREE_FAILURES"],
            account_max_delay=config["LOGIN_ACCOUNT_MAX_DELAY_SECONDS"],
            known_client=timedelta(days=config["LOGIN_KNOWN_CLIENT_DAYS"]),
        )


def delay_after(failures: int, free: int, cap: int) -> int:
    """Seconds to wait after ``failures`` failures of which ``free`` cost nothing: 1, 2, 4 … ≤ cap."""
    if failures < free:
        return 0
    return int(min(cap, 2 ** min(failures - free, 30)))


def _matching(entity: Any, username: str | None, client: str | None) -> list[Any]:
    conditions = []
    if username is not None:
        conditions.append(entity.username == username)
    if client is not None:
        conditions.append(entity.client == client)
    return conditions


def _failures(
    session: Session, window_start: datetime, username: str | None = None, client: str | None = None
) -> tuple[int, datetime | None]:
    """(failures, time of the last) within the window and since the scope's last success."""
    conditions = _matching(LoginAttempt, username, client)
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.outcome == SUCCESS, LoginAttempt.at > window_start, *conditions
        )
    )
    since = window_start if last_success is None else max(aware(window_start), aware(last_success))
    count, last = session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.at)).where(
            LoginAttempt.outcome == FAILURE, LoginAttempt.at > since, *conditions
        )
    ).one()
    return int(count or 0), last


def wait_seconds(session: Session, username: str, client: str, now: datetime, policy: Policy) -> int:
    """How long this client must wait before trying this account's password (0: try now)."""
    now = aware(now)
    start = now - policy.window
    scopes = [
        (_failures(session, start, username, client), policy.free_failures, policy.max_delay),
        (_failures(session, start, client=client), policy.client_free_failures, policy.max_delay),
    ]
    known = session.scalar(
        select(LoginAttempt.id)
        .where(
            LoginAttempt.outcome == SUCCESS,
            LoginAttempt.at > now - policy.known_client,
            *_matching(LoginAttempt, username, client),
        )
        .limit(1)
    )
    if known is None:
        scopes.append(
            (_failures(session, start, username=username), policy.account_free_failures, policy.account_max_delay)
        )
    wait = 0
    for (failures, last), free, cap in scopes:
        delay = delay_after(failures, free, cap)
        if delay and last is not None:
            wait = max(wait, math.ceil((aware(last) + timedelta(seconds=delay) - now).total_seconds()))
    return max(0, wait)


def record(session: Session, username: str, client: str, outcome: str, now: datetime) -> None:
    """Add one attempt to the record (never the password)."""
    session.add(LoginAttempt(at=now, username=username[:64], client=client[:64], outcome=outcome))
    session.flush()
