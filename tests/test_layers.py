"""The layout's promise, checked on the source: imports go one way, and the domain imports no
infrastructure.

    api  →  workflows  →  activities  →  missionflow.runtime  →  missionflow.domain

(`missionflow.stack`, `missionflow.simulation` and the CLI assemble the layers and sit on top.)
Every import counts, inside functions and under TYPE_CHECKING too: a circle hidden in a function
is still a circle for whoever reads the code.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("missionflow", "workflows", "activities", "api", "email_templates")

LAYERS = {
    "missionflow.domain": 0,
    "missionflow.runtime": 1,
    "email_templates": 1,
    "activities": 2,
    "workflows": 3,
    "api": 4,
    "missionflow.stack": 5,
    "missionflow.simulation": 5,
    "missionflow.cli": 6,
    "missionflow.__main__": 7,
}
"""A module may import its own layer and those below it, never one above."""

INFRASTRUCTURE = {
    "aiosmtpd",
    "aiosmtplib",
    "alembic",
    "fastapi",
    "httpx",
    "jinja2",
    "matplotlib",
    "sqlalchemy",
    "sqlmodel",
    "temporalio",
    "uvicorn",
    "weasyprint",
}

DOMAIN_LIBRARIES = {
    "pydantic",
    "pydantic_core",
    "yaml",
    "iso3166",
    "icalendar",
    "email_validator",
    "ortools",
    "babel",
}
"""Libraries of data, formats and computation, no I/O: what the domain may use beside the
standard library (OR-Tools: the scheduler's exact phase, a pure function of its model)."""


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports, as dotted names (a package's submodule when it names one)."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                package = name.split(".")[: -node.level] if path.name != "__init__.py" else None
                base = ".".join([*(package or name.split(".")), node.module])
            imported.add(base)
            imported |= {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES}
    return imported


GRAPH = {
    name: {other for other in _imports(name, path) if other in MODULES and other != name}
    for name, path in MODULES.items()
}


def _layer(name: str) -> int:
    matches = [prefix for prefix in LAYERS if name == prefix or name.startswith(prefix + ".")]
    assert matches, f"{name} belongs to no layer: give its package one in LAYERS"
    return LAYERS[max(matches, key=len)]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.count(".") or n in LAYERS))
def test_imports_go_one_way(name: str) -> None:
    upward = sorted(other for other in GRAPH[name] if _layer(other) > _layer(name))
    assert not upward, f"{name} imports a layer above its own: {upward}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("missionflow.domain")))
def test_the_domain_imports_no_infrastructure(name: str) -> None:
    roots = {module.split(".")[0] for module in _imports(name, MODULES[name])}
    assert not roots & INFRASTRUCTURE, f"{name} imports {sorted(roots & INFRASTRUCTURE)}"
    unknown = roots - {"missionflow"} - set(sys.stdlib_module_names) - DOMAIN_LIBRARIES
    assert not unknown, f"{name} imports {sorted(unknown)}, which the domain does not know"


def test_no_module_imports_itself_through_others() -> None:
    """No circle: depth-first search for a back edge."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for other in sorted(GRAPH[name]):
            if state.get(other) == 1:
                circle = [*path[path.index(other) :], other]
                raise AssertionError("import circle: " + " → ".join(circle))
            if other not in state:
                visit(other)
        path.pop()
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)
