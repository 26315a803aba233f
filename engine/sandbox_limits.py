"""The guard functions diagram code calls, with caps on everything that can grow in one step.

RestrictedPython decides *what* diagram code may touch; it has no notion of *how much* it may
compute. The restricted code calls the guards below (``_getattr_``, ``_getiter_``, ``_write_``,
``_inplacevar_`` and our own ``_binop_``, ``_render_``, ``_format_width_``). Single C-level
operations cannot be interrupted by the tracer of :mod:`engine.sandbox_budget`, so each one that
can grow without bound is capped *before* it runs: powers, multiplication and left shifts of
integers (result bits), sequence repetition and concatenation (result size, counting shared
parts), ``%``/f-string widths, ``range`` length, turning huge structures into text, the ``str``
methods that pad or multiply, and the list/dict/set methods that grow a container (which also
charge the step budget, so ``map(items.append, items)`` cannot loop in C). What they build is
charged to one allocation budget per run.

Hand-written for the same reason as the budget: no maintained library does it.
"""

from __future__ import annotations

import builtins
import operator
import re
import types
from collections.abc import Callable, Iterator
from typing import Any

from RestrictedPython.Guards import safer_getattr

from .sandbox_budget import (  # noqa: F401 - re-exported: the sandbox's limits in one place
    DIAGRAM_FILENAME,
    FORBIDDEN_ATTRIBUTES,
    INTERNAL_PREFIXES,
    MAX_ALLOCATED,
    MAX_FORMAT_WIDTH,
    MAX_INT_BITS,
    MAX_ITEMS,
    MAX_ITERATIONS,
    MAX_SECONDS,
    MAX_STEPS,
    MAX_STRING,
    Budget,
    LimitExceeded,
    budget,
    current_budget,
)
from .sandbox_budget import allocate as _allocate
from .sandbox_budget import fail as _fail

_SEQUENCES = (str, bytes, list, tuple)


def _length(value: Any) -> int:
    return len(value) if isinstance(value, _SEQUENCES) else 0


def _check_size(value: Any) -> None:
    size = _length(value)
    limit = MAX_STRING if isinstance(value, (str, bytes)) else MAX_ITEMS
    if size > limit:
        _fail(f"Hasil terlalu besar (lebih dari {limit} elemen/karakter)")


def deep_size(value: Any, cap: int = MAX_ITEMS) -> int:
    """Items + characters reachable from ``value`` counting shared parts each time, up to ``cap``.

    ``[[0] * 100_000] * 100_000`` holds one inner list, but printing or storing it visits 10^10
    items: this is the size that matters, and the walk stops as soon as it passes ``cap``.
    """
    total, stack = 0, [value]
    while stack and total <= cap:
        item = stack.pop()
        total += 1
        if isinstance(item, (str, bytes)):
            total += len(item) // 16  # characters are cheap; count them coarsely
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            if len(item) > cap:
                return cap + 1
            stack.extend(item)
    return total


def check_render_size(value: Any) -> Any:
    """Before str()/repr()/formatting: refuse structures too big to turn into text."""
    if isinstance(value, (list, tuple, dict, set, frozenset)) and deep_size(value) > MAX_ITEMS:
        _fail(f"Data terlalu besar untuk diubah menjadi teks (lebih dari {MAX_ITEMS} elemen)")
    return value


def _check_int(bits: int) -> None:
    if bits > MAX_INT_BITS:
        _fail(f"Bilangan terlalu besar (lebih dari {MAX_INT_BITS} bit)")


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _precheck_mult(left: Any, right: Any) -> None:
    if _is_int(left) and _is_int(right):
        _check_int(abs(left).bit_length() + abs(right).bit_length())
        return
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, _SEQUENCES) and _is_int(times):
            limit = MAX_STRING if isinstance(seq, (str, bytes)) else MAX_ITEMS
            size = len(seq) if isinstance(seq, (str, bytes)) else max(deep_size(seq, limit) - 1, len(seq))
            if size * max(times, 0) > limit:
                _fail(f"Pengulangan urutan terlalu besar (lebih dari {limit} elemen/karakter)")
            _allocate(len(seq) * max(times, 0))


def _precheck_pow(base: Any, exponent: Any) -> None:
    if _is_int(base) and _is_int(exponent) and exponent > 0 and abs(base) > 1:
        _check_int(abs(base).bit_length() * exponent)


def _precheck_add(left: Any, right: Any) -> None:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        if isinstance(left, (str, bytes)):
            size = len(left) + len(right)
        else:
            size = deep_size(left) + deep_size(right) - 2
        limit = MAX_STRING if isinstance(left, (str, bytes)) else MAX_ITEMS
        if size > limit:
            _fail(f"Hasil penggabungan terlalu besar (lebih dari {limit} elemen/karakter)")
        _allocate(size)


def _precheck_lshift(left: Any, right: Any) -> None:
    if _is_int(left) and _is_int(right) and left != 0:
        _check_int(abs(left).bit_length() + max(right, 0))


_WIDTH = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def check_format_widths(spec: str) -> None:
    """Refuse widths/precisions beyond MAX_FORMAT_WIDTH in a format spec (``:>10``, ``.3f``)."""
    for number in _WIDTH.findall(spec):
        if len(number) > 6 or int(number) > MAX_FORMAT_WIDTH:
            raise LimitExceeded(f"Lebar format terlalu besar (maksimal {MAX_FORMAT_WIDTH})")


class DiscardPrint:
    """``_print_``: ``print()`` in a diagram is accepted and its output discarded, unformatted."""

    def __init__(self, _getattr_: Any = None) -> None:
        pass

    def _call_print(self, *objects: Any, **kwargs: Any) -> None:
        pass

    def __call__(self) -> str:
        return ""


def guarded_format_width(value: Any) -> Any:
    """``_format_width_``: a value placed inside an f-string's format spec."""
    check_format_widths(str(value)[:20] if not isinstance(value, str) or len(value) <= 20 else "9" * 7)
    return value


def _precheck_mod(left: Any, right: Any) -> None:
    if not isinstance(left, str):
        return
    args = right if isinstance(right, tuple) else (right,)
    for arg in args:
        check_render_size(arg)
    if isinstance(right, dict):
        check_render_size(right)
    for match in _PERCENT_SPEC.finditer(left):
        for part in match.groups():
            if part == "*":
                if any(_is_int(a) and abs(a) > MAX_FORMAT_WIDTH for a in args):
                    _fail(f"Lebar format terlalu besar (maksimal {MAX_FORMAT_WIDTH})")
            elif part:
                check_format_widths(part)


_BINOPS: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], None] | None]] = {
    "**": (operator.pow, _precheck_pow),
    "*": (operator.mul, _precheck_mult),
    "+": (operator.add, _precheck_add),
    "<<": (operator.lshift, _precheck_lshift),
    "%": (operator.mod, _precheck_mod),
}
_INPLACE = {
    "+=": (operator.iadd, _precheck_add),
    "-=": (operator.isub, None),
    "*=": (operator.imul, _precheck_mult),
    "/=": (operator.itruediv, None),
    "//=": (operator.ifloordiv, None),
    "%=": (operator.imod, _precheck_mod),
    "**=": (operator.ipow, _precheck_pow),
    "<<=": (operator.ilshift, _precheck_lshift),
    ">>=": (operator.irshift, None),
    "&=": (operator.iand, None),
    "|=": (operator.ior, None),
    "^=": (operator.ixor, None),
    "@=": (operator.imatmul, None),
}


def guarded_binop(op: str, left: Any, right: Any) -> Any:
    """``left <op> right`` for the operators that can produce huge values, capped first."""
    function, precheck = _BINOPS[op]
    if precheck is not None:
        precheck(left, right)
    result = function(left, right)
    _check_size(result)
    return result


def guarded_inplacevar(op: str, target: Any, value: Any) -> Any:
    """RestrictedPython's ``_inplacevar_``: ``x += y`` and friends with the same caps."""
    function, precheck = _INPLACE[op]
    if precheck is not None:
        precheck(target, value)
    result = function(target, value)
    _check_size(result)
    return result


def guarded_pow(base: Any, exponent: Any, modulo: Any = None) -> Any:
    if modulo is not None:
        return builtins.pow(base, exponent, modulo)
    return guarded_binop("**", base, exponent)


def guarded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_ITEMS:
        _fail(f"range() terlalu panjang (lebih dari {MAX_ITEMS} elemen)")
    return result


def guarded_sum(iterable: Any, start: Any = 0) -> Any:
    if not isinstance(start, (int, float, complex)):
        raise TypeError("sum() hanya untuk bilangan di dalam diagram")
    return builtins.sum(iterable, start)


def guarded_getiter(iterable: Any) -> Iterator[Any]:
    """``_getiter_``: every item a loop or comprehension takes counts against the budget."""
    budget_ = current_budget()
    for item in iter(iterable):
        budget_.iterate()
        yield item


# Objects whose attributes diagram code never needs and which lead out of the sandbox.
_OPAQUE_TYPES = (
    types.ModuleType,
    types.FrameType,
    types.CodeType,
    types.TracebackType,
    types.GeneratorType,
    types.CoroutineType,
    types.AsyncGeneratorType,
    types.FunctionType,
    types.MethodType,
)
_GROWING_METHODS = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "union"})
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})
_AMPLIFYING_METHODS = _PADDING_METHODS | {"join", "replace", "translate", "expandtabs"}


def _is_container(obj: Any) -> bool:
    return isinstance(obj, (list, dict, set)) or (isinstance(obj, type) and issubclass(obj, (list, dict, set)))


def _is_text(obj: Any) -> bool:
    return isinstance(obj, (str, bytes)) or (isinstance(obj, type) and issubclass(obj, (str, bytes)))


def _growing(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        budget_ = current_budget()
        budget_.step()
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, (list, tuple, dict, set, frozenset)):
                budget_.allocate(deep_size(arg))
        result = method(*args, **kwargs)
        owner = getattr(method, "__self__", None)
        target = owner if isinstance(owner, (list, dict, set)) else (args[0] if args else None)
        if isinstance(target, (list, dict, set)) and len(target) > MAX_ITEMS:
            budget_.trip(f"Daftar terlalu besar (lebih dari {MAX_ITEMS} elemen)")
        return result

    return call


def _text_estimate(name: str, text: Any, args: list[Any]) -> int:
    """Upper bound of the length of ``text.<name>(*args)`` for the methods that amplify."""
    if name == "join":
        items = args[0] if args else []
        return sum(len(x) for x in items if isinstance(x, (str, bytes))) + len(text) * len(items)
    if name == "replace" and len(args) >= 2 and isinstance(args[0], (str, bytes)):
        old, new = args[0], args[1]
        count = len(text) + 1 if not old else text.count(old)
        if len(args) > 2 and _is_int(args[2]) and args[2] >= 0:
            count = min(count, args[2])
        return len(text) + count * len(new)
    if name == "translate" and args and isinstance(args[0], dict):
        longest = max([len(v) for v in args[0].values() if isinstance(v, str)] or [1])
        return len(text) * longest
    if name == "expandtabs":
        size = args[0] if args and _is_int(args[0]) else 8
        return len(text) + text.count("\t" if isinstance(text, str) else b"\t") * max(size, 0)
    return len(text)


def _amplifying(obj: Any, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """join/replace/translate/expandtabs/padding: the result's size is bounded before it is built."""

    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"{name}() tanpa argumen kata kunci di dalam diagram")
        bound = isinstance(obj, (str, bytes))
        text, rest = (obj, list(args)) if bound else (args[0] if args else "", list(args[1:]))
        if name == "join" and rest:
            rest[0] = list(rest[0])
        if not isinstance(text, (str, bytes)):
            return method(*args)
        if name in _PADDING_METHODS:
            estimate = max([len(text)] + [a for a in rest if _is_int(a)])
        else:
            estimate = _text_estimate(name, text, rest)
        if estimate > MAX_STRING:
            _fail(f"Teks terlalu panjang (lebih dari {MAX_STRING} karakter)")
        _allocate(estimate)
        return method(*rest) if bound else method(text, *rest)

    return call


def guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    """``_getattr_``: RestrictedPython's ``safer_getattr`` plus opaque types and size caps."""
    if isinstance(obj, _OPAQUE_TYPES) or name in FORBIDDEN_ATTRIBUTES or name.startswith(INTERNAL_PREFIXES):
        raise AttributeError(f"Atribut '{name}' tidak dapat diakses dari diagram")
    value = safer_getattr(obj, name, default)
    if _is_container(obj) and name in _GROWING_METHODS:
        return _growing(value)
    if _is_text(obj) and name in _AMPLIFYING_METHODS:
        return _amplifying(obj, name, value)
    return value


class _ContainerWriter:
    """What ``_write_`` hands out for a list or dict: stores cannot grow it past the caps."""

    def __init__(self, target: list[Any] | dict[Any, Any]) -> None:
        self.target = target

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(self.target, list) and isinstance(key, slice):
            value = list(value)
            if len(self.target) + len(value) > MAX_ITEMS:
                _fail(f"Daftar terlalu besar (lebih dari {MAX_ITEMS} elemen)")
        if isinstance(self.target, dict) and key not in self.target and len(self.target) >= MAX_ITEMS:
            _fail(f"Kamus terlalu besar (lebih dari {MAX_ITEMS} elemen)")
        if isinstance(value, (list, tuple, dict, set, frozenset)):
            _allocate(deep_size(value))
        self.target[key] = value

    def __delitem__(self, key: Any) -> None:
        del self.target[key]


def guarded_write(obj: Any) -> Any:
    """``_write_``: diagram code may change items of lists and dicts, nothing else."""
    if type(obj) in (list, dict):
        return _ContainerWriter(obj)
    if type(obj) is set:
        return obj
    raise TypeError(f"Objek {type(obj).__name__} tidak boleh diubah dari diagram")


def _rendering(function: Any) -> Any:
    if function is str or function is repr:
        return lambda value, *rest: function(check_render_size(value), *rest)
    return function


def guarded_map(function: Any, *iterables: Any) -> Any:
    """``map``: ``map(str, rows)`` checks each row's size before turning it into text."""
    return map(_rendering(function), *iterables)


def guarded_apply(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``_apply_``: calls with ``*args``/``**kwargs``."""
    return function(*args, **kwargs)
