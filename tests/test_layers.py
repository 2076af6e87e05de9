"""The shape ARCHITECTURE.md promises: names that resolve, one area one name, arrows
that point down, no reach into another module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ycecli import hooks
from ycecli.features import FEATURES

PACKAGE = Path(__file__).resolve().parents[1] / "ycecli"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _top_level_imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    """Imports that run when the module is imported (not those inside functions,
    which are the deliberate lazy seams, nor those only for type checkers)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[ast.ImportFrom | ast.Import] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.Try):
            found += [n for n in node.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return found


def _targets(module: str, node: ast.ImportFrom | ast.Import) -> set[str]:
    names: set[str] = set()
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name.startswith("ycecli")}
    if node.level:  # relative imports are not used in this project
        return names
    base = node.module or ""
    if not base.startswith("ycecli"):
        return names
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        names.add(sub if sub in MODULES else base)
    return names


def test_every_hook_the_registry_names_exists():
    missing = [
        (feature.command, stage, name)
        for feature in FEATURES
        for stage in feature.hooks
        for name in hooks.names(feature, stage)
        if name not in hooks.HOOKS
    ]
    assert not missing, f"hooks named in the registry but not defined: {missing}"


def test_hook_and_engine_modules_are_named_after_the_feature_areas():
    areas = {p.stem for p in (PACKAGE / "features").glob("*.py")} - {"__init__", "spec"}
    hook_modules = {p.stem for p in (PACKAGE / "hooks").glob("*.py")} - {"__init__"}
    # Helpers beside the hooks that use them, and the style steps every style
    # feature shares, are the only other names.
    shared = {"styles", "skin_results"}
    assert hook_modules - shared <= areas, hook_modules - shared - areas
    engines = PACKAGE / "sandbox" / "engines"
    engine_modules = {p.stem for p in engines.glob("*.py")} - {"__init__"}
    assert engine_modules <= areas | {"common", "imaging"}, engine_modules - areas


def test_the_core_imports_no_cycle():
    graph = {
        module: {
            target
            for node in _top_level_imports(path)
            for target in _targets(module, node)
            if target != module and target in MODULES
        }
        for module, path in MODULES.items()
    }
    # A package's __init__ importing its own submodules is how it collects them, not
    # a cycle between layers.
    for module in graph:
        graph[module] = {
            t
            for t in graph[module]
            if not (t.startswith(module + ".") or module.startswith(t + "."))
        }
    seen: dict[str, int] = {}  # 1: on the path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        seen[module] = 1
        for target in sorted(graph[module]):
            if seen.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target])
            elif target not in seen:
                visit(target, path + [target])
        seen[module] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])
    assert not cycles, f"import cycles: {cycles[:5]}"


@pytest.mark.parametrize("layer", ["ycecli.run", "ycecli.hooks", "ycecli.features"])
def test_lower_layers_never_import_the_facade_or_the_cli(layer):
    offenders = []
    for module, path in MODULES.items():
        if not module.startswith(layer):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(module, node):
                    if target == "ycecli.api" or target.split(".")[:2] == ["ycecli", "cli"]:
                        offenders.append((module, target))
    assert not offenders


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ycecli"):
                offenders += [
                    (module, node.module, a.name)
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert not offenders


def test_the_facade_stays_a_facade():
    lines = (PACKAGE / "api.py").read_text(encoding="utf-8").count("\n")
    assert lines < 400, f"api.py has {lines} lines: the work belongs in ycecli.run"
