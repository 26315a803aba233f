"""Post/Redirect/Get for refused forms too, so Back and reload never meet a POST in history.

Used by the public forms (apply, complaint, tracking, code recovery) and the staff forms that
answered a refusal with a page (task completion and its letter preview, case comments).

A valid form redirects to its result (the receipt, the status page). A refused one would
normally answer its POST with the page and its messages; that history entry is what makes
Chrome's "Confirm Form Resubmission" appear after Back. Instead the messages and the typed
values are kept in the (signed, HttpOnly) session for one GET and the POST answers 303: the
page that shows them is a GET (answered 422, so the status stays honest) and Back or reload
after it are harmless.

A browser cookie holds about 4 KB. When the typed values would not fit (a very long
description), the refused POST answers the page itself as before — nothing is lost; only
that one history entry is a POST.
"""

from __future__ import annotations

import json
from typing import Any

from flask import redirect, session

# What the session cookie may spend on kept values (the rest: tracking codes, language, CSRF,
# the login); the refusal message of a very long form is then answered by the POST itself.
MAX_KEPT_CHARS = 1800


def refuse_with_redirect(
    form: str, location: str, values: dict[str, Any], errors: dict[str, Any], status: int = 422
) -> Any | None:
    """Keep ``values`` and ``errors`` of ``form`` for the next GET (answered ``status``) and
    answer 303 to ``location``; ``None`` when they are too big for the cookie (the caller then
    renders the page itself)."""
    kept = {"form": form, "values": values, "errors": {k: str(v) for k, v in errors.items()}, "status": status}
    if len(json.dumps(kept, ensure_ascii=False)) > MAX_KEPT_CHARS:
        return None
    session["refused"] = kept
    return redirect(location, 303)


def take_refused(form: str) -> tuple[dict[str, Any], dict[str, str], int] | None:
    """The values, errors and status kept for ``form`` by :func:`refuse_with_redirect`, once."""
    kept = session.get("refused")
    if not kept or kept.get("form") != form:
        return None
    session.pop("refused", None)
    return dict(kept.get("values") or {}), dict(kept.get("errors") or {}), int(kept.get("status") or 422)


def no_store(response: Any) -> Any:
    """Mark a page with personal data (a tracking code) as never stored by any cache."""
    response.headers["Cache-Control"] = "no-store, private"
    return response
