"""Build a preset dictionary for compressing stored workflow state (engine/serialization.py).

Runs every sample application and complaint through the bundled procedures, collects the
instance JSON saved after each step, drops what is unique to one case (task ids, timestamps)
and keeps the fragments that recur, most frequent last (zlib matches those most cheaply).

    .venv/bin/python tests/bench/make_state_dictionary.py engine/state_dictionary_N.txt

Never overwrite a dictionary already released: stored cases need it to load. Write a new file
and append it to ``_DICTIONARY_FILES``.
"""

from __future__ import annotations

import collections
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

UNIQUE = re.compile(rb'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"|[0-9]{6,}\.?[0-9]*')
MAX_BYTES = 12 * 1024


def main(target: Path) -> None:
    from engine import serialization
    from tests.conftest import make_config, seed
    from web import create_app
    from web.demo import _PROGRESS, _users_by_role, advance
    from web.extensions import db

    samples: list[bytes] = []
    original = serialization.instance_json

    def record(workflow):  # type: ignore[no-untyped-def]
        raw = original(workflow)
        samples.append(raw)
        return raw

    serialization.instance_json = record  # type: ignore[assignment]
    app = create_app(make_config(Path(tempfile.mkdtemp())))
    with app.app_context():
        from engine import intake
        from web.demo import actor_for, sample_application, utcnow

        db.create_all()
        seed(app)
        users = _users_by_role()
        front = actor_for(users["front_office"])
        for index in range(len(_PROGRESS)):
            data = intake.ApplicationSchema().load(sample_application(index))
            case, _code, _warnings = intake.submit_application(db.session, data, front, utcnow(), "P14D")
            advance(case, 20, users)
        for category in ("bansos_tidak_tepat_sasaran", "pelayanan"):
            complaint = {
                "category": category,
                "description": "Bantuan sembako diterima orang mampu.",
                "phone": "081298765432",
                "village_code": "63.11.06.1019",
            }
            case, _code = intake.submit_complaint(db.session, intake.ComplaintSchema().load(complaint), front, utcnow())
            advance(case, 20, users)
        db.session.rollback()

    counts: collections.Counter[bytes] = collections.Counter()
    for raw in samples:
        for fragment in re.split(rb"(?<=[,{\[])", UNIQUE.sub(b'""', raw)):
            counts[fragment] += 1
    chosen: list[bytes] = []
    size = 0
    for fragment, _n in counts.most_common():
        if size + len(fragment) > MAX_BYTES:
            break
        chosen.append(fragment)
        size += len(fragment)
    target.write_bytes(b"".join(reversed(chosen)))
    print(f"{target}: {size} bytes from {len(samples)} saved states")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
