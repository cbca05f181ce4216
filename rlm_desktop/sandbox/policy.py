"""What code in the REPL may do: RestrictedPython compile plus guarded builtins.

Threat model. The code comes from a language model that reads untrusted documents,
so it may be wrong, wasteful or (through prompt injection) hostile. We want it to
compute over ``context`` and nothing else: no files, no network, no processes, no
reaching the interpreter's internals or the worker's pipe to the host.

First wall (this module): every cell is compiled by RestrictedPython, which rewrites
attribute access, item access, writes, in-place operators, unpacking, print and
imports into calls to the guards below. Names and attributes starting with ``_``
(dunders included) are refused, so ``x.__class__.__subclasses__()``, frame/traceback
walking and ``getattr(x, '__globals__')`` cannot be spelled; imports come only from an
allow-list of pure-computation modules, and module attributes that are themselves
modules outside the list (``json.codecs``, ``statistics.sys``) are refused; ``open``,
``exec``, ``eval``, ``compile``, ``globals`` and friends are absent or refuse loudly;
``str.format`` runs through a formatter that applies the same attribute rules to
``'{0.__class__}'``-style fields.

Second wall (worker.py, session.py): the code runs in a separate process with a CPU
limit, a memory limit and a wall-clock timeout; the process is killed and restarted on
a breach. Messages from the worker to the host are JSON, never pickle, so even a
worker that escaped the first wall cannot make the host unpickle code.

Not covered: RestrictedPython is not a perfect sandbox. A worker that escapes it runs
with the user's own file permissions (it could read files the user can read); the
process limits bound its CPU, memory and time but do not isolate the file system or
network. Use OS-level isolation if documents can come from adversaries you must
contain.
"""

from __future__ import annotations

import ast
import collections
import functools
import operator
import string
import types
from collections.abc import Callable
from typing import Any

from RestrictedPython import compile_restricted_exec
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safe_builtins
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, IOPERATOR_TO_STR, RestrictingNodeTransformer

from rlm_desktop.errors import SandboxPolicyError

ALLOWED_MODULES: tuple[str, ...] = (
    "re", "json", "math", "statistics", "collections", "itertools",
    "functools", "string", "textwrap", "datetime",
)
_ALLOWED_SUBMODULES = frozenset({"collections.abc"})
_INTERNAL_IMPORTS = frozenset({"time", "_strptime"})
"""Imported by C code of allowed modules (datetime.strftime/strptime) through the cell's
``__import__``; cell code itself cannot name them (the compile step checks every import)."""
READABLE_DUNDERS = frozenset({"__name__", "__qualname__", "__doc__"})
"""Plain strings that analysis code reads (``type(x).__name__``); readable, never writable."""
DISPLAY_NAME = "_display_"
"""Builtin the trailing expression of a cell is passed to (notebook-style display)."""

_ALLOWED_TEXT = ", ".join(ALLOWED_MODULES)
_PRIVATE_WHY = "names starting with '_' are blocked in the sandbox because they reach the interpreter's internals"


def _module_allowed(name: str) -> bool:
    return name in ALLOWED_MODULES or name in _ALLOWED_SUBMODULES


# --- compile -----------------------------------------------------------------
_MESSAGE_REWRITES: tuple[tuple[str, str], ...] = (
    ("is an invalid attribute name because it starts with \"_\".", "attribute {name} is not allowed: " + _PRIVATE_WHY),
    ("is an invalid variable name because it starts with \"_\"", "name {name} is not allowed: " + _PRIVATE_WHY),
    ("is a restricted name, that is forbidden to access in RestrictedPython.",
     "attribute {name} is not allowed: it exposes interpreter frames or code objects"),
    ("is a reserved name.", "name {name} is reserved by the sandbox (it handles print output); pick another name"),
)
_FIXED_REWRITES = {
    "Exec calls are not allowed.": "exec() is not allowed: the sandbox runs only the code of the cell itself; write the code directly",
    "Eval calls are not allowed.": "eval() is not allowed: the sandbox runs only the code of the cell itself; write the expression directly",
    '"*" imports are not allowed.': "'from ... import *' is not allowed: import the names you need explicitly",
    "Nonlocal statements are not allowed.": "'nonlocal' is not allowed in the sandbox: return values instead",
    "AsyncFunctionDef statements are not allowed.": "async functions are not allowed in the sandbox",
    "TryStar statements are not allowed.": "'except*' is not allowed in the sandbox",
}


class SandboxTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy with model-readable messages, the import allow-list
    checked at compile time, and the trailing expression passed to ``_display_``."""

    def error(self, node: ast.AST, info: str) -> None:
        lineno = getattr(node, "lineno", None)
        message = f"Line {lineno}: {_readable(info)}"
        if message not in self.errors:
            self.errors.append(message)

    def _check_module(self, node: ast.AST, module: str) -> None:
        if not _module_allowed(module):
            self.error(node, f"import of '{module}' is not allowed; allowed modules: {_ALLOWED_TEXT}")

    def visit_Import(self, node: ast.Import) -> Any:
        for alias in node.names:
            self._check_module(node, alias.name)
        return super().visit_Import(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        if node.level:
            self.error(node, "relative imports are not allowed; allowed modules: " + _ALLOWED_TEXT)
        else:
            self._check_module(node, node.module or "")
        return super().visit_ImportFrom(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr in READABLE_DUNDERS and isinstance(node.ctx, ast.Load):
            node = self.node_contents_visit(node)
            return ast.copy_location(_call("_getattr_", node.value, ast.Constant(node.attr)), node)
        return super().visit_Attribute(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        """``total: int = 0`` runs as ``total = 0``; a bare annotation does nothing."""
        if node.value is None:
            return ast.copy_location(ast.Pass(), node)
        assign = ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)
        return self.visit(assign)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        """Allow ``counts[word] += 1`` and ``self.total += x`` (RestrictedPython refuses both):
        ``t = obj; k = key; _write_(t)[k] = _inplacevar_(op, _getitem_(t, k), value)``."""
        target = node.target
        if not isinstance(target, (ast.Subscript, ast.Attribute)):
            return super().visit_AugAssign(node)
        if isinstance(target, ast.Attribute) and (target.attr.startswith("_") or target.attr in INSPECT_ATTRIBUTES):
            self.error(node, f'"{target.attr}" is an invalid attribute name because it starts with "_".')
            return node
        obj_name = self.gen_tmp_name()
        statements: list[ast.stmt] = [ast.Assign(targets=[ast.Name(obj_name, ast.Store())],
                                                 value=self.visit(target.value))]
        if isinstance(target, ast.Subscript):
            key_name = self.gen_tmp_name()
            statements.append(ast.Assign(targets=[ast.Name(key_name, ast.Store())], value=self.visit(target.slice)))
            current: ast.expr = _call("_getitem_", ast.Name(obj_name, ast.Load()), ast.Name(key_name, ast.Load()))
            store: ast.expr = ast.Subscript(value=_call("_write_", ast.Name(obj_name, ast.Load())),
                                            slice=ast.Name(key_name, ast.Load()), ctx=ast.Store())
        else:
            current = _call("_getattr_", ast.Name(obj_name, ast.Load()), ast.Constant(target.attr))
            store = ast.Attribute(value=_call("_write_", ast.Name(obj_name, ast.Load())), attr=target.attr,
                                  ctx=ast.Store())
        updated = _call("_inplacevar_", ast.Constant(IOPERATOR_TO_STR[type(node.op)]), current,
                        self.visit(node.value))
        statements.append(ast.Assign(targets=[store], value=updated))
        for statement in statements:
            ast.copy_location(statement, node)
            ast.fix_missing_locations(statement)
        return statements

    def visit_Module(self, node: ast.Module) -> Any:
        node = super().visit_Module(node)
        if node.body and isinstance(node.body[-1], ast.Expr):
            last = node.body[-1]
            call = ast.Call(func=ast.Name(DISPLAY_NAME, ast.Load()), args=[last.value], keywords=[])
            last.value = ast.copy_location(call, last.value)
            ast.fix_missing_locations(last)
        return node


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])


def _readable(info: str) -> str:
    if info in _FIXED_REWRITES:
        return _FIXED_REWRITES[info]
    for suffix, template in _MESSAGE_REWRITES:
        if info.endswith(suffix):
            name = info[: -len(suffix)].strip().strip('"')
            return template.format(name=repr(name))
    if info.endswith(" statements are not allowed."):
        return info.replace(" statements are not allowed.", " statements are not allowed in the sandbox")
    return info


def compile_cell(source: str, filename: str) -> types.CodeType:
    """Compile one cell under the sandbox policy; raise SandboxPolicyError listing every refusal."""
    result = compile_restricted_exec(source, filename=filename, policy=SandboxTransformer)
    if result.errors or result.code is None:
        raise SandboxPolicyError("\n".join(result.errors) or "the cell could not be compiled")
    return result.code


# --- runtime guards ----------------------------------------------------------
def refuse(what: str, why: str) -> SandboxPolicyError:
    return SandboxPolicyError(f"{what} is not allowed: {why}")


def _check_attribute(obj: Any, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError("attribute name must be a string")
    if name.startswith("_") and name not in READABLE_DUNDERS:
        raise refuse(f"attribute {name!r}", _PRIVATE_WHY)
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
    if isinstance(value, types.ModuleType) and not _module_allowed(value.__name__):
        raise refuse(where, f"it is the module '{value.__name__}', which is not on the allow-list ({_ALLOWED_TEXT})")
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


class _SandboxClassMarker:
    """Classes created by cell code carry this attribute: their instances are writable."""


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
        raise refuse(f"setting attribute {name!r}", _PRIVATE_WHY)


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
    if level or not _module_allowed(name):
        raise refuse(f"import of '{name}'", f"allowed modules: {_ALLOWED_TEXT}")
    for item in fromlist or ():
        if str(item).startswith("_"):
            raise refuse(f"importing '{item}' from '{name}'", _PRIVATE_WHY)
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


def _refusing(what: str, why: str) -> Callable[..., Any]:
    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise refuse(what, why)
    refused.__name__ = what.split("(")[0]
    return refused


_NO_IO = "the sandbox has no file, network or process access; the documents are already in `context`"
_REFUSED_BUILTINS: dict[str, tuple[str, str]] = {
    "open": ("open()", _NO_IO),
    "input": ("input()", "there is no user at the keyboard of the sandbox"),
    "exec": ("exec()", "the sandbox runs only the code of the cell itself"),
    "eval": ("eval()", "the sandbox runs only the code of the cell itself"),
    "compile": ("compile()", "the sandbox runs only the code of the cell itself"),
    "globals": ("globals()", "use SHOW_VARS() to list your variables"),
    "locals": ("locals()", "use SHOW_VARS() to list your variables"),
    "vars": ("vars()", "use SHOW_VARS() to list your variables"),
    "breakpoint": ("breakpoint()", "there is no debugger in the sandbox"),
    "memoryview": ("memoryview()", "raw memory access is blocked"),
    "super": ("super()", "call the base class method directly, e.g. Base.method(self)"),
}

_EXTRA_SAFE = (
    "all", "any", "bin", "bytes", "dict", "enumerate", "filter", "format", "frozenset", "iter",
    "list", "map", "max", "min", "next", "reversed", "set", "sorted", "sum", "tuple", "zip",
    "object", "staticmethod", "classmethod", "property", "StopAsyncIteration", "RecursionError",
    "NotADirectoryError", "PermissionError", "TimeoutError",
)


class CellPrinter:
    """The object RestrictedPython's ``print`` rewrites call into: writes to the cell's capture."""

    def __init__(self, sink: Callable[[], Any]) -> None:
        self._sink = sink  # returns the current cell's writer

    def _call_print(self, *objects: Any, sep: str | None = " ", end: str | None = "\n",
                    file: Any = None, flush: bool = False) -> None:
        if file is not None:
            raise refuse("print(file=...)", _NO_IO)
        print(*objects, sep=sep, end=end, file=self._sink())

    def __call__(self) -> str:  # the `printed` name
        return self._sink().getvalue()


def build_builtins(printer: CellPrinter, display: Callable[[Any], None],
                   extras: dict[str, Any]) -> dict[str, Any]:
    """The ``__builtins__`` of every cell: safe builtins, RestrictedPython's guards, ``extras``."""
    import builtins

    table: dict[str, Any] = dict(safe_builtins)
    for name in _EXTRA_SAFE:
        table[name] = getattr(builtins, name)
    for name, (what, why) in _REFUSED_BUILTINS.items():
        table[name] = _refusing(what, why)
    table.update({
        "__import__": guarded_import,
        "__metaclass__": sandbox_metaclass,
        "getattr": guarded_getattr,
        "hasattr": guarded_hasattr,
        "setattr": guarded_setattr,
        "delattr": guarded_delattr,
        "type": safe_type,
        "dir": safe_dir,
        "_getattr_": guarded_getattr,
        "_getitem_": guarded_getitem,
        "_getiter_": iter,
        "_write_": write_guard,
        "_inplacevar_": inplace_var,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_apply_": lambda f, *a, **kw: f(*a, **kw),
        "_print_": lambda _getattr=None: printer,
        DISPLAY_NAME: display,
    })
    table.update(extras)
    return table
