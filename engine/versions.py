"""Procedure versions side by side: open cases per version, and what changed between two."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .definitions import load_definition
from .errors import NotFound
from .models import Case, ProcessDefinition
from .serialization import SERIALIZER


@dataclass
class VersionSummary:
    definition: ProcessDefinition
    open_cases: int
    all_cases: int


@dataclass
class Procedure:
    key: str
    name: str
    versions: list[VersionSummary] = field(default_factory=list)

    @property
    def latest(self) -> VersionSummary:
        return self.versions[0]


def list_procedures(session: Session) -> list[Procedure]:
    """Every procedure with its versions, newest first, and how many cases each holds."""
    counts: dict[int, tuple[int, int]] = {}
    rows = session.execute(
        select(Case.definition_id, Case.status, func.count()).group_by(Case.definition_id, Case.status)
    ).all()
    for definition_id, status, count in rows:
        open_count, total = counts.get(definition_id, (0, 0))
        counts[definition_id] = (open_count + (count if status == "active" else 0), total + count)
    procedures: dict[str, Procedure] = {}
    for definition in session.scalars(
        select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
    ):
        procedure = procedures.setdefault(definition.key, Procedure(definition.key, definition.name))
        open_count, total = counts.get(definition.id, (0, 0))
        procedure.versions.append(VersionSummary(definition, open_count, total))
    return list(procedures.values())


def get_version(session: Session, key: str, version: int) -> ProcessDefinition:
    found = session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.key == key, ProcessDefinition.version == version)
    ).first()
    if found is None:
        raise NotFound(f"Prosedur '{key}' versi {version} tidak ada")
    return found


def _label(spec: Any) -> str:
    return str(spec.bpmn_name or spec.bpmn_id or spec.name)


def _shown(spec: Any) -> bool:
    # SpiffWorkflow adds helper specs (Start, End, *.EndJoin, boundary splits) without a BPMN id
    return bool(getattr(spec, "bpmn_id", None))


def diff_versions(older: ProcessDefinition, newer: ProcessDefinition) -> dict[str, Any]:
    """Elements added, removed and changed (by SpiffWorkflow's SpecDiff), and files changed."""
    old, new = load_definition(older), load_definition(newer)
    changes = {"added": [], "removed": [], "changed": []}  # type: dict[str, list[dict[str, Any]]]
    pairs = [(old.spec, new.spec)] + [
        (spec, new.subprocess_specs[name])
        for name, spec in old.subprocess_specs.items()
        if name in new.subprocess_specs
    ]
    for original, updated in pairs:
        diff = SpecDiff(SERIALIZER.registry, original, updated)
        changes["added"] += [{"id": s.bpmn_id, "name": _label(s)} for s in diff.added if _shown(s)]
        changes["removed"] += [{"id": s.bpmn_id, "name": _label(s)} for s in diff.removed if _shown(s)]
        changes["changed"] += [
            {"id": s.bpmn_id, "name": _label(s), "attributes": sorted(a for a in attrs if a != "name")}
            for s, attrs in diff.changed.items()
            if _shown(s)
        ]
    for name in sorted(set(new.subprocess_specs) - set(old.subprocess_specs)):
        changes["added"].append({"id": name, "name": f"subproses {name}"})
    for name in sorted(set(old.subprocess_specs) - set(new.subprocess_specs)):
        changes["removed"].append({"id": name, "name": f"subproses {name}"})
    files_old, files_new = older.files, newer.files
    return {
        "key": newer.key,
        "from_version": older.version,
        "to_version": newer.version,
        **changes,
        "files": {
            "added": sorted(set(files_new) - set(files_old)),
            "removed": sorted(set(files_old) - set(files_new)),
            "changed": sorted(n for n in set(files_old) & set(files_new) if files_old[n] != files_new[n]),
        },
    }
