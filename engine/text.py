"""Marking user-facing text for the translation catalogues without importing the web layer.

``N_("…")`` returns its argument unchanged; ``pybabel extract`` (see ``babel.cfg``) collects every
marked string, and the web layer translates it when it is shown (``_(label)`` in a template).
"""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802  (the gettext convention for "mark, translate later")
    """Mark ``text`` (Indonesian) for translation; return it unchanged."""
    return text
