"""Serve the app in its own process for tests that need several (``python tests/serve_app.py``).

Settings come as JSON in the environment variable ``SERVE_APP_SETTINGS`` (on top of TestConfig);
the chosen port is printed on the first line of standard output.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.serving import make_server  # noqa: E402

from config import TestConfig  # noqa: E402
from web import create_app  # noqa: E402


def main() -> None:
    settings = json.loads(os.environ.get("SERVE_APP_SETTINGS", "{}"))  # noqa: SIM112 (a test helper's own input)
    app = create_app(type("ServeConfig", (TestConfig,), settings))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
