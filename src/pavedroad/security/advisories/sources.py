"""Where OSV records come from: an OSV export zip (one JSON record per member), a directory of
JSON or YAML records (the PyPA database's layout), or one record file."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from pavedroad.core.errors import InputError

RECORD_SUFFIXES = (".json", ".yaml", ".yml")
# Every scalar as text: an unquoted version such as 1.10 must not become the float 1.1.
_YamlLoader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


class UnreadableRecordError(Exception):
    """A member or file that is not a JSON/YAML document."""


def read_records(path: Path) -> Iterator[tuple[str, Any]]:
    """``(source, document)`` for every record under ``path``; an unreadable one yields an
    :class:`UnreadableRecordError` as its document so the caller can report it and go on."""
    if not path.exists():
        raise InputError(
            f"{path} does not exist",
            hint="give an OSV export zip, a directory of OSV records or one record file",
        )
    if path.is_dir():
        yield from _directory(path)
    elif zipfile.is_zipfile(path):
        yield from _archive(path)
    elif path.suffix.lower() in RECORD_SUFFIXES:
        yield str(path), _parse(path.name, path.read_bytes())
    else:
        raise InputError(
            f"{path} is neither a zip archive, a directory nor a .json/.yaml record",
            hint="OSV exports are zips (e.g. PyPI/all.zip); records end in .json or .yaml",
        )


def _directory(root: Path) -> Iterator[tuple[str, Any]]:
    for file in sorted(root.rglob("*")):
        if file.suffix.lower() in RECORD_SUFFIXES and file.is_file() and not _hidden(file, root):
            yield str(file), _parse(file.name, file.read_bytes())


def _archive(path: Path) -> Iterator[tuple[str, Any]]:
    with zipfile.ZipFile(path) as archive:
        for member in sorted(archive.namelist()):
            if member.lower().endswith(RECORD_SUFFIXES):
                yield f"{path}!{member}", _parse(member, archive.read(member))


def _parse(name: str, content: bytes) -> Any:
    try:
        if name.lower().endswith(".json"):
            return json.loads(content)
        return yaml.load(content, Loader=_YamlLoader)
    except (ValueError, yaml.YAMLError) as error:
        return UnreadableRecordError(
            f"not valid {'JSON' if name.endswith('.json') else 'YAML'}: "
            f"{str(error).splitlines()[0]}"
        )


def _hidden(file: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in file.relative_to(root).parts)
