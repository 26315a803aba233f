"""Where the procedure issues letters: what the engine asks of the letters service.

The diagram says which steps issue a letter: a user task or end event carrying the property
``issuesLetter`` (the series, e.g. ``rekomendasi`` on "Terbitkan surat rekomendasi",
``pemberitahuan`` on every rejecting end of ``rujukan.bpmn``). The engine calls the issuer it is
given in the same unit of work as the step, so a letter exists if and only if the step commits.
``letters.issue.LetterService`` implements it; the engine never imports ``letters``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from .audit import Actor
from .errors import EngineError
from .models import Case


class LettersNotConfigured(EngineError):
    """A step that issues a letter ran without a letters service (a wiring error, not the user's)."""

    code = "letters_not_configured"


class LetterIssuer(Protocol):
    def issue(
        self,
        session: Session,
        case: Case,
        series: str,
        source: str,
        data: Mapping[str, Any],
        actor: Actor,
        now: datetime,
        change: Any = None,
    ) -> Any:
        """Number, render, sign and store a letter of ``series`` for ``case``; append its event.

        ``source`` is the task or end event issuing it; ``data`` the workflow data there;
        ``change`` the engine's CaseChange recording this unit's events (its letter event goes there).
        """


def issue_letter_for(
    letters: LetterIssuer | None,
    session: Session,
    case: Case,
    series: str,
    source: str,
    data: Mapping[str, Any],
    actor: Actor,
    now: datetime,
    *,
    change: Any = None,
) -> Any:
    """Issue through ``letters``; raises :class:`LettersNotConfigured` when there is none."""
    if letters is None:
        raise LettersNotConfigured(f"Langkah {source} menerbitkan surat {series}, tetapi layanan surat tidak tersedia")
    return letters.issue(session, case, series, source, data, actor, now, change)
