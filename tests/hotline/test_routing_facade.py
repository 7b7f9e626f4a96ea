"""Routing's facade is its public surface (issue 18): production code outside routing imports
`routing` and nothing of its modules, and the facade exports exactly what those areas use, no
more (routing's own tests import its modules). Read from the source with the ast module."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import routing

ROOT = Path(__file__).resolve().parents[2]
# Production code outside routing: the other areas and the core (migrations are frozen history).
OTHER_AREAS = ("hotline", "ivr", "callbacks", "dashboards", "recordings")


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for package in OTHER_AREAS:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith("hotline/migrations/"):
                yield relative, ast.parse(path.read_text())


def test_other_areas_import_routing_only_through_its_facade():
    reached = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("routing."):
                reached.append(f"{path}:{node.lineno}: from {node.module} import ...")
            elif isinstance(node, ast.ImportFrom) and node.module == "routing":
                reached += [f"{path}:{node.lineno}: from routing import {alias.name}"
                            for alias in node.names if alias.name not in routing.__all__]
            elif isinstance(node, ast.Import):
                reached += [f"{path}:{node.lineno}: import {alias.name}"
                            for alias in node.names if alias.name.startswith("routing.")]
    assert reached == []


def test_the_facade_exports_what_the_other_areas_use_and_no_more():
    used = set()
    for _, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "routing":
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom) and node.module == "routing":
                used |= {alias.name for alias in node.names}
    assert sorted(routing.__all__) == sorted(used)
    assert all(hasattr(routing, name) for name in routing.__all__)
