from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

import ${{ values.package }}

ROOT = Path(__file__).parents[1]


def test_the_version_is_the_one_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert ${{ values.package }}.__version__ == project["version"]


def test_the_package_tells_type_checkers_it_is_typed() -> None:
    assert files("${{ values.package }}").joinpath("py.typed").is_file()
