"""What code in the REPL may do: RestrictedPython compile plus guarded builtins.

Threat model. The code comes from a language model that reads untrusted documents,
so it may be wrong, wasteful or (through prompt injection) hostile. We want it to
compute over ``context`` and nothing else: no files, no network, no processes, no
reaching the interpreter's internals or the worker's pipe to the host.

First wall (this module and guards.py): every cell is compiled by RestrictedPython, which rewrites
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
import types
from collections.abc import Callable
from typing import Any

from RestrictedPython import compile_restricted_exec
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safe_builtins
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, IOPERATOR_TO_STR, RestrictingNodeTransformer

from rlm_desktop.errors import SandboxPolicyError
from rlm_desktop.sandbox.helpers import HELPER_NAMES
from rlm_desktop.sandbox.guards import (
    ALLOWED_MODULES, ALLOWED_TEXT, PRIVATE_WHY, READABLE_DUNDERS, guarded_delattr, guarded_getattr, guarded_getitem,
    guarded_hasattr, guarded_import, guarded_setattr, inplace_var, module_allowed, refuse, safe_dir, safe_type,
    sandbox_metaclass, write_guard,
)

__all__ = ["ALLOWED_MODULES", "DISPLAY_NAME", "CellPrinter", "SandboxTransformer", "build_builtins", "compile_cell"]

# Names a cell may call but not assign to or define: ``table = context[5]`` would leave every later ``table(...)``
# call failing with "'Doc' object is not callable", a loop a small model does not get out of on its own; told
# that share_of() computes a share, the 1.5B wrote its own ``def share_of(table, name)`` (wrongly) instead of calling it.
PROTECTED_NAMES = frozenset({*HELPER_NAMES, "FINAL", "FINAL_VAR", "SHOW_VARS", "llm_query", "llm_query_batched"})

DISPLAY_NAME = "_display_"
"""Builtin the trailing expression of a cell is passed to (notebook-style display)."""

# --- compile -----------------------------------------------------------------
_MESSAGE_REWRITES: tuple[tuple[str, str], ...] = (
    ("is an invalid attribute name because it starts with \"_\".", "attribute {name} is not allowed: " + PRIVATE_WHY),
    ("is an invalid variable name because it starts with \"_\"", "name {name} is not allowed: " + PRIVATE_WHY),
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
        if not module_allowed(module):
            self.error(node, f"import of '{module}' is not allowed; allowed modules: {ALLOWED_TEXT}")

    def visit_Import(self, node: ast.Import) -> Any:
        for alias in node.names:
            self._check_module(node, alias.name)
        return super().visit_Import(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        if node.level:
            self.error(node, "relative imports are not allowed; allowed modules: " + ALLOWED_TEXT)
        else:
            self._check_module(node, node.module or "")
        return super().visit_ImportFrom(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr in READABLE_DUNDERS and isinstance(node.ctx, ast.Load):
            node = self.node_contents_visit(node)
            return ast.copy_location(_call("_getattr_", node.value, ast.Constant(node.attr)), node)
        return super().visit_Attribute(node)

    def visit_Name(self, node: ast.Name) -> Any:
        if isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in PROTECTED_NAMES:
            self._protected(node, node.id)
        return super().visit_Name(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        if node.name in PROTECTED_NAMES:
            self._protected(node, node.name)
        return super().visit_FunctionDef(node)

    def _protected(self, node: ast.AST, name: str) -> None:
        self.error(node, f"{name!r} is a function of the REPL and cannot be given another value; store your value "
                         f"under another name (such as {name + '_value'!r}) and call {name}(...) as it is")

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
