"""engine/ and letters/ never import Flask or web (DESIGN.md: the one rule between layers)."""

from __future__ import annotations

import ast
import subprocess
import sys

from config import BASE_DIR


def test_engine_and_letters_sources_do_not_import_flask_or_web() -> None:
    offenders = []
    for package in ("engine", "letters"):
        for path in (BASE_DIR / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in {"flask", "web", "flask_sqlalchemy"}]
    assert offenders == []


def test_importing_the_engine_loads_no_flask() -> None:
    code = (
        "import sys, engine.cases, engine.intake, engine.replay, engine.inbox, letters; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'web')]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nothing_but_config_reads_the_environment() -> None:
    offenders = []
    for package in ("engine", "letters", "web"):
        for path in (BASE_DIR / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            if "os.environ" in path.read_text(encoding="utf-8") or "getenv(" in path.read_text(encoding="utf-8"):
                offenders.append(str(path))
    assert offenders == []


def test_engine_modules_import_each_other_without_cycles() -> None:
    """Late imports inside functions count too: a cycle hidden in a function is still a cycle."""
    graph: dict[str, set[str]] = {}
    for path in (BASE_DIR / "engine").glob("*.py"):
        imported = graph.setdefault(path.stem, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                imported.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in path:
                cycles.append(" → ".join([*path[path.index(target) :], target]))
            elif target in graph:
                visit(target, [*path, target])

    for module in sorted(graph):
        visit(module, [module])
    assert cycles == []
