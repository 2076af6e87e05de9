"""The sandbox's engine tables against the registry, and the sandbox's module layout:
every producer, check and input-rule name a feature declares exists, in the engine
module of the feature's own area, and the sandbox's modules import each other in one
direction only, at the top, and never by private names."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import ycecli.features
import ycecli.sandbox.engines
from ycecli.features import FEATURES
from ycecli.sandbox.engines import AREAS, CHECKS, PRODUCERS, RULES

SANDBOX = Path(ycecli.sandbox.engines.__file__).parent.parent


def feature_areas() -> dict[str, str]:
    """Feature command -> the name of the registry module that declares it."""
    areas = {}
    for info in pkgutil.iter_modules(ycecli.features.__path__):
        module = importlib.import_module(f"ycecli.features.{info.name}")
        for feature in getattr(module, "FEATURES", ()):
            areas[feature.command] = info.name
    return areas


AREA_OF = feature_areas()


def declared_names(feature) -> list[tuple[str, str, dict]]:
    """(field, name, table) for each engine name the feature declares."""
    names = [("sandbox_result", feature.sandbox_result, PRODUCERS)]
    if feature.sandbox_check:
        names.append(("sandbox_check", feature.sandbox_check, CHECKS))
    if feature.sandbox_rules:
        names.append(("sandbox_rules", feature.sandbox_rules, RULES))
    return names


def test_the_engines_have_the_registrys_areas():
    engine_areas = {info.name for info in pkgutil.iter_modules(ycecli.sandbox.engines.__path__)}
    assert engine_areas == set(AREA_OF.values())
    assert {area.__name__.rsplit(".", 1)[1] for area in AREAS} == engine_areas


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.command)
def test_every_engine_name_a_feature_declares_exists_in_its_area(feature):
    area = AREA_OF[feature.command]
    for field, name, table in declared_names(feature):
        assert name in table, f"{feature.command}: {field} {name!r} is in no engine table"
        module = table[name].__module__
        assert module == f"ycecli.sandbox.engines.{area}", (
            f"{feature.command}: {field} {name!r} lives in {module}, "
            f"not in the engine of its area ({area})"
        )


def test_no_engine_name_is_declared_by_two_areas():
    for kind in ("PRODUCERS", "CHECKS", "RULES"):
        tables = [getattr(area, kind) for area in AREAS]
        assert sum(len(t) for t in tables) == len({n for t in tables for n in t}), kind


# -- the layout --------------------------------------------------------------------------


def sandbox_modules() -> dict[str, ast.Module]:
    modules = {}
    for path in sorted(SANDBOX.rglob("*.py")):
        parts = path.relative_to(SANDBOX.parent.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = ast.parse(path.read_text(), filename=str(path))
    return modules


MODULES = sandbox_modules()


def imported(node: ast.AST) -> list[tuple[str, list[str]]]:
    """(module, names) for an import statement."""
    if isinstance(node, ast.Import):
        return [(alias.name, []) for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [(node.module, [alias.name for alias in node.names])]
    return []


def test_sandbox_modules_import_ycecli_only_at_the_top():
    late = []
    for name, tree in MODULES.items():
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                for module, _ in imported(node):
                    if module.startswith("ycecli"):
                        late.append(f"{name}:{node.lineno} imports {module}")
    assert not late


def test_no_sandbox_module_imports_private_names():
    private = []
    for name, tree in MODULES.items():
        for node in ast.walk(tree):
            for module, names in imported(node):
                if module.startswith("ycecli"):
                    private += [f"{name} imports {module}.{n}" for n in names if n[0] == "_"]
    assert not private


def test_the_sandbox_modules_import_each_other_without_cycles():
    graph: dict[str, set[str]] = {}
    for name, tree in MODULES.items():
        deps = set()
        for node in tree.body:
            for module, names in imported(node):
                for target in [module] + [f"{module}.{n}" for n in names]:
                    if target in MODULES and target != name:
                        deps.add(target)
        graph[name] = deps
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise AssertionError(" -> ".join((*path[path.index(name) :], name)))
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
