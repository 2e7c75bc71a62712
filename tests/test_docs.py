"""The map a newcomer reads first stays true: the README's "Where things are" names every
module, and every module opens by saying what it owns."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted((ROOT / "eventsvc").rglob("*.py"))


def _where_things_are() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("## Where things are", 1)[1].split("```", 2)[1]


def _name_in_the_map(path: Path) -> str:
    """What the map calls a module: eventsvc/x.py at the top, x.py among the services, the
    stem among models and blueprints, the folder for a blueprint package (web/api/)."""
    parts = path.relative_to(ROOT / "eventsvc").parts
    if len(parts) == 1:
        return f"eventsvc/{parts[0]}"
    if parts[0] == "services":
        return parts[1]
    if parts[0] == "web" and len(parts) == 3:
        return f"{parts[1]}/"
    return path.stem


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_readme_names_every_module(path):
    if path.name == "__init__.py" and path.parent.name != "eventsvc":
        return  # a package is named by its folder
    assert _name_in_the_map(path) in _where_things_are()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_says_what_it_owns(path):
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring and len(docstring) >= 30, "open the module with a docstring"
