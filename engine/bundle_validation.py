"""Validating a bundle: every problem at once, and exactly the files each procedure uses.

``validate_procedures`` parses each executable process with SpiffWorkflow (in a thread with a
deep stack: its parser recurses once per element of a chain), runs the rules of
``engine/diagram_checks.py`` and composes each version's files: its diagram, the diagrams of
the processes it calls, the DMN files of the decisions it calls and the forms its tasks name —
never another procedure's.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from . import diagram_checks as checks
from .bundle import (
    Bundle,
    ParsedFile,
    called_decisions,
    called_processes,
    decisions_in,
    executable,
    problem,
    processes_in,
    referenced_forms,
    schema_problems,
)

T = TypeVar("T")
_DEEP_LOCK = threading.Lock()
_DEEP_STACK_BYTES = 256 * 1024 * 1024
_DEEP_RECURSION = 60_000


def run_deep(func: Callable[[], T]) -> T:
    """Run ``func`` in a thread with a large stack and recursion limit (long element chains).

    The recursion limit is process-wide: it is raised only while the thread runs, one at a time.
    """
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = exc

    with _DEEP_LOCK:
        old_stack = threading.stack_size(_DEEP_STACK_BYTES)
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, _DEEP_RECURSION))
        try:
            thread = threading.Thread(target=target, name="parse-bundle")
            thread.start()
            thread.join()
        finally:
            sys.setrecursionlimit(old_limit)
            threading.stack_size(old_stack)
    if "error" in result:
        raise result["error"]
    return result["value"]


@dataclass
class ProcedureBundle:
    """One procedure ready to store: its parsed spec and exactly the files it uses."""

    key: str
    name: str
    diagram: str
    spec: Any
    subprocess_specs: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)


def _process_index(bundle: Bundle) -> tuple[dict[str, list[tuple[ParsedFile, etree._Element]]], list[dict[str, Any]]]:
    index: dict[str, list[tuple[ParsedFile, etree._Element]]] = {}
    for parsed in bundle.bpmn_files():
        for process in processes_in(parsed):
            index.setdefault(process.get("id") or "", []).append((parsed, process))
    found = []
    for key, places in index.items():
        uploaded = [p for p, _ in places if p.uploaded]
        if len(uploaded) > 1:
            names = ", ".join(p.name for p in uploaded)
            found.append(
                problem(uploaded[1].name, key, f"Proses '{key}' didefinisikan di lebih dari satu berkas: {names}")
            )
    return index, found


def _decision_index(bundle: Bundle) -> tuple[dict[str, ParsedFile], list[dict[str, Any]]]:
    index: dict[str, ParsedFile] = {}
    found = []
    for parsed in bundle.dmn_files():
        for decision in decisions_in(parsed):
            decision_id = decision.get("id") or ""
            other = index.get(decision_id)
            if other is not None and other.uploaded == parsed.uploaded:
                found.append(
                    problem(
                        parsed.name,
                        decision_id,
                        f"Keputusan '{decision_id}' juga ada di {other.name}: id keputusan harus unik",
                    )
                )
            if other is None or parsed.uploaded:
                index[decision_id] = parsed
    return index, found


def _closure(
    key: str, processes: dict[str, list[tuple[ParsedFile, etree._Element]]]
) -> tuple[list[tuple[ParsedFile, etree._Element]], list[str]]:
    """The process and every process it calls (transitively), and called ids that are missing."""
    seen: list[tuple[ParsedFile, etree._Element]] = []
    missing, todo, visited = [], [key], set()
    while todo:
        current = todo.pop()
        if current in visited:
            continue
        visited.add(current)
        places = processes.get(current)
        if not places:
            missing.append(current)
            continue
        place = next((p for p in places if p[0].uploaded), places[0])
        seen.append(place)
        todo.extend(sorted(called_processes(place[1])))
    return seen, missing


def file_problems(bundle: Bundle, rules: checks.Rules) -> list[dict[str, Any]]:
    """What each uploaded file has wrong on its own: reading, XML schema, timers, DMN, expressions."""
    found = list(bundle.problems)
    for parsed in bundle.xml.values():
        if not parsed.uploaded:
            continue
        if parsed.name.endswith(".bpmn"):
            found.extend(schema_problems(parsed))
            found.extend(checks.timer_problems(parsed))
        else:
            found.extend(checks.dmn_problems(parsed, rules))
        found.extend(checks.expression_problems(parsed))
    return found


def validate_procedures(
    bundle: Bundle, targets: list[str], rules: checks.Rules
) -> tuple[dict[str, ProcedureBundle], list[dict[str, Any]]]:
    """Check the target processes of a bundle; return the procedures and every problem found."""
    found = file_problems(bundle, rules)
    processes, duplicates = _process_index(bundle)
    decisions, decision_dupes = _decision_index(bundle)
    found.extend(duplicates + decision_dupes)

    ready: dict[str, ProcedureBundle] = {}
    for key in targets:
        places, missing = _closure(key, processes)
        if not places:
            continue
        diagram, process = places[0]
        for called in missing:
            found.append(
                problem(diagram.name, called, f"Proses yang dipanggil '{called}' tidak ada: unggah diagramnya")
            )
        for place_file, place in places[1:]:
            if not executable(place):
                found.append(
                    problem(
                        place_file.name,
                        place.get("id"),
                        f"Proses yang dipanggil '{place.get('id')}' harus dapat dijalankan: tandai isExecutable=\"true\"",
                    )
                )
        files = {p.name: p.text for p, _ in places}
        wanted = set()
        for place_file, place in places:
            if place_file.uploaded or place_file is diagram:
                found.extend(checks.flow_problems(place_file.name, place))
                found.extend(checks.gateway_problems(place_file.name, place, bundle))
            wanted |= called_decisions(place)
            for form in referenced_forms(place):
                if form in bundle.texts:
                    files[form] = bundle.texts[form]
        for decision_id in sorted(wanted):
            holder = decisions.get(decision_id)
            if holder is None:
                found.append(
                    problem(
                        diagram.name,
                        decision_id,
                        f"Tabel keputusan '{decision_id}' tidak ditemukan: unggah berkas .dmn-nya",
                    )
                )
            else:
                files[holder.name] = holder.text
        parsed_spec = _parse(key, diagram, files, bundle)
        if isinstance(parsed_spec, dict):
            found.append(parsed_spec)
            continue
        spec, subprocess_specs = parsed_spec
        found.extend(checks.task_problems(diagram.name, [spec, *subprocess_specs.values()], bundle, rules))
        ready[key] = ProcedureBundle(
            key=key,
            name=process.get("name") or key,
            diagram=diagram.name,
            spec=spec,
            subprocess_specs=subprocess_specs,
            files=dict(sorted(files.items())),
        )
    return ready, _unique(found)


def _parse(key: str, diagram: ParsedFile, files: dict[str, str], bundle: Bundle) -> Any:
    """SpiffWorkflow's spec for ``key`` from exactly ``files``, or a problem saying why not."""

    def parse() -> tuple[Any, dict[str, Any]]:
        parser = SpiffBpmnParser(validator=None)  # the XSD check ran already, reporting every error
        for name in sorted(files):
            parsed = bundle.xml.get(name)
            if parsed is None:
                continue
            if name.endswith(".dmn"):
                parser.add_dmn_xml(parsed.root, filename=name)
            else:
                parser.add_bpmn_xml(parsed.root, filename=name)
        return parser.get_spec(key), parser.get_subprocess_specs(key)

    try:
        return run_deep(parse)
    except ValidationException as exc:
        element = getattr(exc, "id", None) or key
        return problem(
            diagram.name,
            element,
            f"Diagram tidak dapat diproses: {_first_line(exc)}",
            line=getattr(exc, "line_number", None) or None,
        )
    except Exception as exc:  # noqa: BLE001 - the parser raises many kinds; report it, never a 500
        return problem(diagram.name, key, f"Diagram tidak dapat diproses ({type(exc).__name__}): {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line.replace(" at 0x", " ")[:300]


def _unique(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, result = set(), []
    for item in found:
        marker = (item["file"], item["element_id"], item["message"])
        if marker not in seen:
            seen.add(marker)
            result.append(item)
    return result


def targets_of(bundle: Bundle) -> tuple[list[str], list[dict[str, Any]]]:
    """Executable processes defined in uploaded diagrams, or why there is none to deploy."""
    targets, found, called = [], [], set()
    uploaded = [p for p in bundle.bpmn_files() if p.uploaded]
    for parsed in uploaded:
        procs = processes_in(parsed)
        runnable = [p.get("id") or "" for p in procs if executable(p)]
        targets.extend(runnable)
        for process in procs:
            called |= called_processes(process)
        if not runnable:
            hint = (
                'tandai proses dengan isExecutable="true" (Camunda Modeler: centang «Executable»)'
                if procs
                else "berkas ini tidak berisi bpmn:process (hanya kolaborasi/gambar?)"
            )
            found.append(
                problem(
                    parsed.name,
                    procs[0].get("id") if procs else None,
                    f"Tidak ada proses yang dapat dijalankan: {hint}",
                    severity="warning",
                )
            )
    # a process another one calls is part of its caller's version, not a procedure of its own
    return [t for t in targets if t not in called] or targets, found
