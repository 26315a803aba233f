"""The rules diagram code must pass, at deployment and at run time alike: one compile function.

:func:`compile_diagram_code` applies, in order:

1. our own checks on the syntax tree, with Indonesian messages quoting the code: no imports,
   classes, ``global``/``nonlocal``, generators, ``with`` or async code; no name or attribute
   starting with ``_``, no frame/code/generator internals, no builtins that reach objects
   (``getattr``, ``vars``, ``type``, ``eval``…); ``str.format`` only on a literal template with
   plain fields; f-string widths bounded; size and nesting of the code bounded (a 5,000-term
   condition is refused, it never reaches a RecursionError); operations on literals checked
   against the run-time caps (``9**9**9`` and ``[0]*10**9`` are refused here);
2. RestrictedPython's ``compile_restricted`` with its ``RestrictingNodeTransformer``, extended
   so that ``**``, ``*``, ``+``, ``<<`` and ``%`` go through a guard that caps the result and
   values turned into text (``str()``, ``repr()``, f-strings) are size-checked first.

Names are NFKC-normalised by Python's parser, so ``ｅｘｅｃ`` is checked as ``exec``.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
import string
import warnings
from collections.abc import Callable
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted

from . import sandbox_limits as limits
from .errors import UnsafeExpression

MAX_EXPRESSION_CHARS = 5_000
MAX_SCRIPT_CHARS = 50_000
MAX_EXPRESSION_NODES = 1_000
MAX_SCRIPT_NODES = 10_000
MAX_DEPTH = 60

FORBIDDEN_NAMES = frozenset(
    "eval exec compile open input breakpoint globals locals vars getattr setattr delattr hasattr "
    "__import__ type object memoryview help exit quit classmethod staticmethod super property "
    "dir iter next aiter anext format builtins printed license credits copyright".split()
)
_FORBIDDEN_NODES: dict[type[ast.AST], str] = {
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.ClassDef: "definisi kelas (class)",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.Yield: "yield (generator)",
    ast.YieldFrom: "yield from",
    ast.Await: "await",
    ast.AsyncFunctionDef: "async def",
    ast.AsyncFor: "async for",
    ast.AsyncWith: "async with",
    ast.With: "with",
}
if hasattr(ast, "TryStar"):
    _FORBIDDEN_NODES[ast.TryStar] = "except*"
_FORBIDDEN_ATTRIBUTES = limits.FORBIDDEN_ATTRIBUTES
_INTERNAL_PREFIXES = limits.INTERNAL_PREFIXES
_DUNDER_TEXT = re.compile(r"__\w+__")
_JUEL = re.compile(r"^\s*[$#]\{.*\}\s*$", re.DOTALL)
_FORMATTER = string.Formatter()


def is_juel(source: str) -> bool:
    """``${...}``/``#{...}``: an expression language of other modelers (Camunda, Activiti), not Python."""
    return bool(_JUEL.match(source))


def shorten(source: str, limit: int = 80) -> str:
    """One line of at most ``limit`` characters, to quote code in a message."""
    flat = " ".join(source.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _refuse(source: str, reason: str, line: int | None = None) -> UnsafeExpression:
    where = f" (baris {line})" if line and "\n" in source.strip() else ""
    return UnsafeExpression(f"{reason}{where}: «{shorten(source)}»", details={"line": line, "reason": reason})


def check_template(template: str) -> None:
    """A ``str.format`` template may only use plain fields (``{}``, ``{0}``, ``{nama}``)."""
    for _text, field, spec, _conversion in _FORMATTER.parse(template):
        if field is None:
            continue
        if "." in field or "[" in field:
            raise limits.LimitExceeded("Templat format tidak boleh mengakses atribut atau indeks")
        if spec and "{" in spec:
            raise limits.LimitExceeded("Templat format tidak boleh berisi format bersarang")
        limits.check_format_widths(spec or "")


def _check_format_call(node: ast.Call, source: str) -> None:
    func = node.func
    assert isinstance(func, ast.Attribute)
    receiver = func.value
    if not (isinstance(receiver, ast.Constant) and isinstance(receiver.value, str)):
        raise _refuse(source, "format()/format_map() hanya boleh pada templat teks tetap", node.lineno)
    try:
        check_template(receiver.value)
    except (limits.LimitExceeded, ValueError) as exc:
        raise _refuse(source, f"Templat format tidak aman ({exc})", node.lineno) from None


def _check_node(node: ast.AST, source: str) -> None:
    line = getattr(node, "lineno", None)
    for node_type, label in _FORBIDDEN_NODES.items():
        if isinstance(node, node_type):
            raise _refuse(source, f"Konstruksi '{label}' tidak diizinkan", line)
    if isinstance(node, ast.Name):
        if (node.id.startswith("_") and node.id != "_") or node.id in FORBIDDEN_NAMES:
            raise _refuse(source, f"Nama '{node.id}' tidak diizinkan", line)
    elif isinstance(node, ast.Attribute):
        attr = node.attr
        if attr.startswith("_") or attr in _FORBIDDEN_ATTRIBUTES or attr.startswith(_INTERNAL_PREFIXES):
            raise _refuse(source, f"Atribut '{attr}' tidak diizinkan", line)
    elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
        names = [node.name] if isinstance(node, ast.FunctionDef) else []
        args = node.args
        names += [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
        names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        for name in names:
            if name.startswith("_") and name != "_" or name in FORBIDDEN_NAMES:
                raise _refuse(source, f"Nama '{name}' tidak diizinkan", line)
    elif isinstance(node, ast.ExceptHandler) and node.name and node.name.startswith("_"):
        raise _refuse(source, f"Nama '{node.name}' tidak diizinkan", line)
    elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
        if _DUNDER_TEXT.search(text):
            raise _refuse(source, "Teks berbentuk nama internal ('__…__') tidak diizinkan", line)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in ("format", "format_map"):
            _check_format_call(node, source)
    elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        spec = node.format_spec
        parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
        if any(not isinstance(p, ast.Constant) for p in parts):
            raise _refuse(source, "Format f-string dinamis tidak diizinkan", line)
        try:
            limits.check_format_widths("".join(str(p.value) for p in parts if isinstance(p, ast.Constant)))
        except limits.LimitExceeded as exc:
            raise _refuse(source, str(exc), line) from None


def _walk_checked(tree: ast.AST, source: str, max_nodes: int) -> None:
    """Visit every node without recursion; refuse code too large or too deeply nested."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > max_nodes:
            raise _refuse(source, f"Kode terlalu rumit (lebih dari {max_nodes} unsur)")
        if depth > MAX_DEPTH:
            raise _refuse(source, f"Kode terlalu dalam bersarang (lebih dari {MAX_DEPTH} tingkat)")
        _check_node(node, source)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


_FOLDABLE_OPS: dict[type[ast.operator], str] = {
    ast.Pow: "**",
    ast.Mult: "*",
    ast.Add: "+",
    ast.LShift: "<<",
    ast.Mod: "%",
}
_NUMBER_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Sub: operator.sub,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_,
    ast.BitXor: operator.xor,
}


def _fold_constants(tree: ast.AST, source: str) -> None:
    """Apply the run-time caps to operations on literals, so ``9**9**9`` is refused at deployment."""
    order: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(ast.iter_child_nodes(node))
    known: dict[int, Any] = {}
    for node in reversed(order):  # children before their parents
        value: Any = None
        try:
            if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex, str, bytes)):
                value = node.value
            elif isinstance(node, (ast.List, ast.Tuple)) and all(id(e) in known for e in node.elts):
                items = [known[id(e)] for e in node.elts]
                value = items if isinstance(node, ast.List) else tuple(items)
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and id(node.operand) in known:
                value = -known[id(node.operand)]
            elif isinstance(node, ast.BinOp) and id(node.left) in known and id(node.right) in known:
                left, right = known[id(node.left)], known[id(node.right)]
                if type(node.op) in _FOLDABLE_OPS:
                    value = limits.guarded_binop(_FOLDABLE_OPS[type(node.op)], left, right)
                elif type(node.op) in _NUMBER_OPS and all(isinstance(v, (int, float)) for v in (left, right)):
                    value = _NUMBER_OPS[type(node.op)](left, right)
        except limits.LimitExceeded as exc:
            raise _refuse(source, str(exc), getattr(node, "lineno", None)) from None
        except (ArithmeticError, TypeError, ValueError):
            value = None  # fails at run time with its own error
        if value is not None:
            known[id(node)] = value


class DiagramPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus guarded operators that can build huge values."""

    _GUARDED_OPS = _FOLDABLE_OPS

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        symbol = self._GUARDED_OPS.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(
            func=ast.Name("_binop_", ast.Load()), args=[ast.Constant(symbol), node.left, node.right], keywords=[]
        )
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_Call(self, node: ast.Call) -> ast.AST:
        """``str(x)``/``repr(x)``: ``x`` is size-checked before it is turned into text."""
        result = super().visit_Call(node)
        if isinstance(result, ast.Call) and isinstance(result.func, ast.Name) and result.args:
            if result.func.id in ("str", "repr") and not isinstance(result.args[0], ast.Starred):
                check = ast.Call(func=ast.Name("_render_", ast.Load()), args=[result.args[0]], keywords=[])
                result.args[0] = ast.fix_missing_locations(ast.copy_location(check, result.args[0]))
        return result  # type: ignore[return-value]

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        """Dynamic parts of an f-string's format spec (``{x:>{w}}``) are width-checked at run time."""
        node = self.node_contents_visit(node)
        check = ast.Call(func=ast.Name("_render_", ast.Load()), args=[node.value], keywords=[])
        node.value = ast.fix_missing_locations(ast.copy_location(check, node.value))
        spec = node.format_spec
        if isinstance(spec, ast.JoinedStr):
            for part in spec.values:
                if isinstance(part, ast.Constant):
                    try:
                        limits.check_format_widths(str(part.value))
                    except limits.LimitExceeded as exc:
                        self.error(node, str(exc))
                elif isinstance(part, ast.FormattedValue):
                    call = ast.Call(func=ast.Name("_format_width_", ast.Load()), args=[part.value], keywords=[])
                    part.value = ast.fix_missing_locations(ast.copy_location(call, part.value))
        return node


def _parse(source: str, mode: str) -> ast.Module | ast.Expression:
    try:
        tree = ast.parse(source, filename=limits.DIAGRAM_FILENAME, mode=mode)
        assert isinstance(tree, (ast.Module, ast.Expression))
        return tree
    except SyntaxError as exc:
        where = f"baris {exc.lineno}, kolom {exc.offset}" if exc.lineno else "posisi tidak diketahui"
        raise UnsafeExpression(
            f"Sintaks Python tidak valid ({where}): «{shorten(source)}»",
            details={"line": exc.lineno, "reason": "syntax"},
        ) from None
    except (RecursionError, MemoryError):
        raise _refuse(source, "Kode terlalu rumit untuk diperiksa") from None
    except ValueError:  # NUL bytes
        raise _refuse(source, "Kode berisi karakter yang tidak valid") from None


@functools.lru_cache(maxsize=4096)
def compile_diagram_code(source: str, mode: str = "exec") -> Any:
    """Check ``source`` by the sandbox's rules and compile it; raise UnsafeExpression if refused.

    ``mode`` is ``"eval"`` for expressions (conditions, timers, DMN entries…), ``"exec"`` for scripts.
    """
    if not isinstance(source, str) or not source.strip():
        raise UnsafeExpression("Ekspresi kosong")
    if is_juel(source):
        raise _refuse(source, "Ini bukan ekspresi Python (JUEL/EL dari modeler lain; gunakan Python)")
    max_chars, max_nodes = (
        (MAX_EXPRESSION_CHARS, MAX_EXPRESSION_NODES) if mode == "eval" else (MAX_SCRIPT_CHARS, MAX_SCRIPT_NODES)
    )
    if len(source) > max_chars:
        raise _refuse(source, f"Kode terlalu panjang (lebih dari {max_chars} karakter)")
    tree = _parse(source.strip() if mode == "eval" else source, mode)
    _walk_checked(tree, source, max_nodes)
    _fold_constants(tree, source)
    try:
        with warnings.catch_warnings():  # RestrictedPython warns about print() without 'printed'
            warnings.simplefilter("ignore", SyntaxWarning)
            result = compile_restricted(
                tree, filename=limits.DIAGRAM_FILENAME, mode="eval" if mode == "eval" else "exec", policy=DiagramPolicy
            )
    except SyntaxError as exc:  # RestrictedPython reports every refusal as one SyntaxError
        reasons = "; ".join(str(a) for a in exc.args)
        raise _refuse(source, f"Tidak diizinkan oleh sandbox ({shorten(reasons, 200)})") from None
    except (RecursionError, MemoryError):
        raise _refuse(source, "Kode terlalu rumit untuk diperiksa") from None
    return result


def check_expression(source: str, mode: str = "exec") -> None:
    """Raise :class:`UnsafeExpression` unless ``source`` passes the sandbox's rules."""
    compile_diagram_code(source, mode)
