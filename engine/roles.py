"""Which roles may change anything: auditors read everything and write nothing."""

from __future__ import annotations

from .audit import Actor
from .errors import Forbidden

# Roles that only read: a user holding nothing but these changes no case, document or comment.
READ_ONLY_ROLES = frozenset({"auditor"})


def is_read_only(actor: Actor) -> bool:
    """True when every role of ``actor`` is a read-only one (an applicant is not)."""
    return bool(actor.roles) and set(actor.roles) <= READ_ONLY_ROLES


def require_writer(actor: Actor) -> None:
    """Raises Forbidden for a read-only actor."""
    if is_read_only(actor):
        raise Forbidden("Peran auditor hanya dapat membaca; tidak dapat mengubah kasus.")
