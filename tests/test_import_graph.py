"""The package's import graph, read with ``ast`` (function-level and TYPE_CHECKING imports included):
no cycles, and the dependency direction of the architecture (docs: ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rlm_desktop"
FACES = ("gui", "cli", "service")
SEPARATE = ("sandbox", "library", "backends", "hub")   # import none of each other


def _module_name(path: Path) -> str:
    parts = ("rlm_desktop",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(path: Path, name: str, known: set[str]) -> set[str]:
    """Every module of ours that ``path`` imports, anywhere in the file, resolved to a known module."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:   # `from pkg import name`: name may be a module or a value
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imported(path, name, known) for name, path in modules.items()}


def _external_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def _layer(module: str) -> str:
    if module == "rlm_desktop.__main__":   # `python -m rlm_desktop`: the desktop app's entry point, a face
        return "gui"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_package_init(module: str, graph: dict[str, set[str]]) -> bool:
    return any(other.startswith(module + ".") for other in graph)


def test_there_are_no_import_cycles_lazy_imports_included():
    graph = _graph()
    # A package's __init__ re-exporting its own modules is not a cycle of code: leave those edges out.
    graph = {name: {t for t in targets if not (_is_package_init(t, graph) and name.startswith(t + "."))}
             for name, targets in graph.items()}
    assert _cycles(graph) == []


def _violations(rule) -> list[str]:
    return sorted(f"{name} -> {target}" for name, targets in _graph().items() for target in targets
                  if rule(name, target))


def test_nothing_in_the_core_imports_a_face():
    assert _violations(lambda name, target: _layer(name) not in FACES and _layer(target) in FACES) == []


def test_sandbox_library_backends_and_hub_import_none_of_each_other():
    assert _violations(lambda name, target: _layer(name) in SEPARATE and _layer(target) in SEPARATE
                       and _layer(name) != _layer(target)) == []


def test_the_engine_knows_the_backend_protocol_only_and_no_library_or_hub():
    def wrong(name: str, target: str) -> bool:
        if _layer(name) != "engine":
            return False
        if _layer(target) == "backends":
            return target != "rlm_desktop.backends.base"
        return _layer(target) in ("library", "hub", "runtime")
    assert _violations(wrong) == []


@pytest.mark.parametrize("forbidden", ["PySide6", "sqlite3", "sqlite_utils", "llama_cpp"])
def test_the_engine_imports_no_qt_sqlite_or_model_runtime(forbidden):
    offenders = [name for name, path in _modules().items()
                 if _layer(name) == "engine" and forbidden in _external_imports(path)]
    assert offenders == []


def test_only_the_gui_imports_qt():
    offenders = [name for name, path in _modules().items()
                 if _layer(name) != "gui" and "PySide6" in _external_imports(path)]
    assert offenders == []
