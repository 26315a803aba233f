"""Typed domain errors; the web layer maps each ``code`` to an HTTP status in one place."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.exceptions import SpiffWorkflowException


class EngineError(Exception):
    """Base of every error the engine raises on purpose.

    ``message`` is the Indonesian text. A message with values is given as its template and
    ``params`` (``"maksimal %(mb)s MB."``, ``{"mb": 5}``): ``text`` keeps the template, so the web
    layer can translate it before filling the values in (``web.i18n.error_text``).
    """

    code = "engine_error"

    def __init__(self, message: str, details: Any = None, *, params: dict[str, Any] | None = None) -> None:
        self.text = message
        self.params = dict(params or {})
        self.message = message % self.params if self.params else message
        super().__init__(self.message)
        self.details = details


class NotFound(EngineError):
    code = "not_found"


class Forbidden(EngineError):
    code = "forbidden"


class Conflict(EngineError):
    code = "conflict"


class TaskAlreadyClaimed(Conflict):
    code = "task_claimed"


class TaskNotActive(Conflict):
    code = "task_not_active"


class StaleCase(Conflict):
    code = "stale_case"


class NotWaiting(Conflict):
    code = "not_waiting"


class CaseExpired(NotWaiting):
    """The case's time ran out before this change (its expiry timer was due): it is closed."""

    code = "case_expired"


class InvalidSubmission(EngineError):
    """Submitted data failed validation; ``details`` maps field paths to messages."""

    code = "invalid_data"


class DeploymentInvalid(EngineError):
    """A deployment bundle has problems; ``details`` lists every one with its element id."""

    code = "invalid_deployment"


class UnsafeExpression(EngineError):
    code = "unsafe_expression"


class ExpressionFailed(EngineError, SpiffWorkflowException):
    """An expression or script of a deployed diagram failed at run time (nothing is saved).

    Also a SpiffWorkflowException so that SpiffWorkflow's DMN and pre/post-script handlers pass
    it on unchanged instead of wrapping it in their own English errors.
    """

    code = "procedure_failed"

    def __str__(self) -> str:
        notes = getattr(self, "notes", None)
        return self.message + (" (" + "; ".join(notes) + ")" if notes else "")
