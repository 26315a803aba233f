"""Post/Redirect/Get for forms sent by script (web/static/js/upload.js, with a progress bar).

A browser's XMLHttpRequest follows a redirect by itself, so the page it lands on (and a one-time
notice kept in the session) would be used up invisibly. For such a request a redirect becomes
``204`` with ``X-Location``; the script then opens that page itself, replacing the form in history.
"""

from __future__ import annotations

from flask import Flask, Response, request

HEADER = "X-Location"


def _unfollowed(response: Response) -> Response:
    if request.headers.get("X-Requested-With") == "XMLHttpRequest" and response.status_code in (301, 302, 303, 307):
        location = response.headers.get("Location", "")
        response = Response(status=204)
        response.headers[HEADER] = location
    return response


def init_app(app: Flask) -> None:
    app.after_request(_unfollowed)
