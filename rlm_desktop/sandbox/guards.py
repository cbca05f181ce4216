"""Runtime guards for cell code: attribute, item and write access, imports, str.format.

RestrictedPython's compiled code calls these (``_getattr_``, ``_getitem_``, ``_write_``,
``__import__``, ...); policy.py explains the threat model and assembles them.
"""

from __future__ import annotations

import collections
import functools
import operator
import string
import types
from collections.abc import Callable
from typing import Any

from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from rlm_desktop.errors import SandboxPolicyError

ALLOWED_MODULES: tuple[str, ...] = (
    "re", "json", "math", "statistics", "collections", "itertools",
    "functools", "string", "textwrap", "datetime", "csv",
)
_ALLOWED_SUBMODULES = frozenset({"collections.abc"})
_INTERNAL_IMPORTS = frozenset({"time", "_strptime"})
"""Imported by C code of allowed modules (datetime.strftime/strptime) through the cell's
``__import__``; cell code itself cannot name them (the compile step checks every import)."""
READABLE_DUNDERS = frozenset({"__name__", "__qualname__", "__doc__"})
"""Plain strings that analysis code reads (``type(x).__name__``); readable, never writable."""
ALLOWED_TEXT = ", ".join(ALLOWED_MODULES)
PRIVATE_WHY = "names starting with '_' are blocked in the sandbox because they reach the interpreter's internals"


def module_allowed(name: str) -> bool:
    return name in ALLOWED_MODULES or name in _ALLOWED_SUBMODULES


def refuse(what: str, why: str) -> SandboxPolicyError:
    return SandboxPolicyError(f"{what} is not allowed: {why}")


def _check_attribute(obj: Any, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError("attribute name must be a string")
    if name.startswith("_") and name not in READABLE_DUNDERS:
        raise refuse(f"attribute {name!r}", PRIVATE_WHY)
    if name in INSPECT_ATTRIBUTES:
        raise refuse(f"attribute {name!r}", "it exposes interpreter frames or code objects")
    if isinstance(obj, types.ModuleType):
        if obj is string and name == "Formatter":
            raise refuse("string.Formatter", "its fields bypass the sandbox's attribute checks; use str.format")
        if obj is functools and name in ("update_wrapper", "wraps"):
            raise refuse(f"functools.{name}", "it copies attributes by name, around the sandbox's checks")
        value = getattr(obj, name, None)
        if isinstance(value, types.ModuleType):
            _check_value(value, f"{obj.__name__}.{name}")


_HIDDEN_TYPES = (types.FrameType, types.CodeType, types.TracebackType)
_CHECKED_TYPES = (types.ModuleType, *_HIDDEN_TYPES)


def _check_value(value: Any, where: str, name: Any = None) -> Any:
    """Refuse values cell code must never hold, however it reached them (``where`` % ``name`` says how)."""
    if not isinstance(value, _CHECKED_TYPES):
        return value
    if name is not None:
        where = where % (name,)
    if isinstance(value, types.ModuleType) and not module_allowed(value.__name__):
        raise refuse(where, f"it is the module '{value.__name__}', which is not on the allow-list ({ALLOWED_TEXT})")
    if isinstance(value, _HIDDEN_TYPES):
        raise refuse(where, "it is an interpreter frame, code or traceback object")
    return value


class _SafeFormatter(string.Formatter):
    """str.format whose '{0.attr}' fields obey the sandbox's attribute rules."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        import _string  # the parser str.format itself uses

        first, rest = _string.formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            if is_attr:
                try:
                    _check_attribute(obj, key)
                except SandboxPolicyError as exc:
                    raise SandboxPolicyError(f"format field '{{{field_name}}}': {exc}") from None
                obj = _check_value(getattr(obj, key), f"format field '{{{field_name}}}'")
            else:
                obj = _check_value(obj[key], f"format field '{{{field_name}}}'")
        return obj, first


_FORMATTER = _SafeFormatter()


def _safe_format_method(template: str, name: str) -> Callable[..., str]:
    if name == "format":
        def format(*args: Any, **kwargs: Any) -> str:  # noqa: A001 - mirrors str.format
            return _FORMATTER.vformat(str.__str__(template), args, kwargs)
        return format

    def format_map(mapping: Any) -> str:
        return _FORMATTER.vformat(str.__str__(template), (), mapping)
    return format_map


def _unbound_safe_format(name: str) -> Callable[..., str]:
    def unbound(template: str, *args: Any, **kwargs: Any) -> str:
        if not isinstance(template, str):
            raise TypeError(f"str.{name}() needs a str")
        return _safe_format_method(template, name)(*args, **kwargs)
    return unbound


def guarded_getattr(obj: Any, name: Any, *default: Any) -> Any:
    """``getattr`` for cell code: no '_' names, no frames, no modules off the allow-list."""
    _check_attribute(obj, name)
    if name in ("format", "format_map"):
        if isinstance(obj, str):
            return _safe_format_method(obj, name)
        if isinstance(obj, type) and issubclass(obj, str):
            return _unbound_safe_format(name)
    return _check_value(getattr(obj, name, *default), "attribute %r", name)


def guarded_hasattr(obj: Any, name: Any) -> bool:
    _check_attribute(obj, name)
    return hasattr(obj, name)


def guarded_getitem(obj: Any, index: Any) -> Any:
    return _check_value(obj[index], "item %r", index)


_WRITABLE_TYPES = (dict, list, set, bytearray, collections.deque, collections.UserDict, collections.UserList)


def write_guard(obj: Any) -> Any:
    """Target of ``x.attr = v`` / ``x[i] = v``: plain containers and cell-defined objects only."""
    if isinstance(obj, _WRITABLE_TYPES) or getattr(type(obj), "_sandbox_class_", False) \
            or getattr(obj, "_sandbox_class_", False):
        return obj
    return _ReadOnly(obj)


class _ReadOnly:
    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)

    def _refuse(self, *_args: Any) -> None:
        kind = type(object.__getattribute__(self, "_target")).__name__
        raise refuse(f"changing a {kind} object in place",
                     "only lists, dicts, sets and objects of classes defined in the cell can be modified")

    __setattr__ = __delattr__ = __setitem__ = __delitem__ = _refuse


def _check_write_name(name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError("attribute name must be a string")
    if name.startswith("_"):
        raise refuse(f"setting attribute {name!r}", PRIVATE_WHY)


def guarded_setattr(obj: Any, name: str, value: Any) -> None:
    _check_write_name(name)
    setattr(write_guard(obj), name, value)


def guarded_delattr(obj: Any, name: str) -> None:
    _check_write_name(name)
    delattr(write_guard(obj), name)


_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
    "@=": operator.imatmul,
}


def inplace_var(op: str, target: Any, value: Any) -> Any:
    return _INPLACE[op](target, value)


def guarded_import(name: str, globals: Any = None, locals: Any = None,  # noqa: A002 - __import__ signature
                   fromlist: Any = (), level: int = 0) -> types.ModuleType:
    if not level and name in _INTERNAL_IMPORTS and not fromlist:
        return __import__(name)
    if level or not module_allowed(name):
        raise refuse(f"import of '{name}'", f"allowed modules: {ALLOWED_TEXT}")
    for item in fromlist or ():
        if str(item).startswith("_"):
            raise refuse(f"importing '{item}' from '{name}'", PRIVATE_WHY)
    module = __import__(name, None, None, fromlist or (), 0)
    for item in fromlist or ():
        _check_attribute(module, item)
    return module


def sandbox_metaclass(name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
    """Creates classes defined in cells; marks them so their instances can be written to."""
    cls = type(name, bases, namespace)
    cls._sandbox_class_ = True
    return cls


def safe_type(obj: Any, *more: Any) -> type:
    """``type(x)`` only; creating classes goes through the class statement."""
    if more:
        raise refuse("type(name, bases, dict)", "define classes with the class statement")
    return type(obj)


def safe_dir(obj: Any = None) -> list[str]:
    if obj is None:
        raise refuse("dir() without an argument", "use SHOW_VARS() to list your variables")
    return [name for name in dir(obj) if not name.startswith("_")]
