"""Where a template comes from: its entity and the folder its ``template.yaml`` is in.

From the catalog, the folder is found the way ingestion recorded it: the entity's location and
``source_path`` (the file, relative to the location's tree). For git locations the tree is the
catalog's own checkout under ``data_dir``. ``version`` hashes every file of the folder, so a
task can say exactly which template it ran.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import yaml
from sqlalchemy.orm import Session

from pavedroad.catalog import service as catalog_service
from pavedroad.catalog.models import Entity, Location
from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.catalog.sources import SourceError, checkout_git, open_location, split_git_target
from pavedroad.core.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

TEMPLATE_FILES = ("template.yaml", "template.yml")


@dataclass(frozen=True)
class TemplateSource:
    """A template ready to run."""

    ref: str  # template:default/x
    entity: dict[str, Any]  # the Template entity as the catalog serves it
    directory: Path  # the folder its template.yaml is in (./skeleton is relative to it)
    version: str  # a stable hash of the template's files


def load_template(runtime: Runtime, session: Session, ref: str) -> TemplateSource:
    """The catalog's Template ``ref`` and the folder it was read from."""
    key = _template_key(ref)
    try:
        row = catalog_service.get_entity_row(session, key)
    except NotFoundError:
        raise NotFoundError(
            f"No template {key} in the catalog; register the location of its template.yaml"
        ) from None
    entity: dict[str, Any] = orjson.loads(row.body)
    if entity.get("kind") != "Template":
        raise NotFoundError(f"{key} is a {entity.get('kind')}, not a Template")
    path = _source_file(runtime, session, row)
    if not path.is_file():
        raise InputError(
            f"The files of {key} are not readable: {path} does not exist",
            hint="refresh its location, or check that the repository still holds it",
        )
    return TemplateSource(key, entity, path.parent, template_version(path.parent))


def template_from_directory(directory: Path, ref: str | None = None) -> TemplateSource:
    """A template read straight from a folder holding ``template.yaml`` (no catalog needed)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise NotFoundError(f"{folder} is not a folder; name the folder that holds template.yaml")
    path = next((folder / n for n in TEMPLATE_FILES if (folder / n).is_file()), None)
    if path is None:
        raise NotFoundError(f"{folder} has no template.yaml")
    entity = _read_entity(path)
    metadata = entity.get("metadata") or {}
    own_ref = f"template:{metadata.get('namespace') or 'default'}/{metadata.get('name')}".lower()
    return TemplateSource(ref or own_ref, entity, folder.resolve(), template_version(folder))


def template_version(directory: Path) -> str:
    """A hash of every file under ``directory`` (names, contents, executable bits, links)."""
    digest = hashlib.sha256()
    root = Path(directory)
    for path in sorted(_files(root)):
        relative = path.relative_to(root).as_posix()
        is_link = path.is_symlink()
        content = b"link:" + str(path.readlink()).encode() if is_link else path.read_bytes()
        executable = b"x" if os.access(path, os.X_OK) and not is_link else b"-"
        digest.update(relative.encode() + b"\0" + executable + hashlib.sha256(content).digest())
    return digest.hexdigest()


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, directories, names in os.walk(root):
        directories[:] = [d for d in directories if d != ".git"]
        base = Path(folder)
        found.extend(base / name for name in names)
        found.extend(base / d for d in directories if (base / d).is_symlink())
    return found


def _template_key(ref: str) -> str:
    try:
        return str(parse_ref(ref, default_kind="template"))
    except RefError as error:
        raise InputError(str(error)) from None


def _source_file(runtime: Runtime, session: Session, row: Entity) -> Path:
    if row.location_id is None or row.source_path is None:
        raise InputError(
            f"{row.ref} comes from provider {row.provider}, which gives no files to run",
            hint="register the template's template.yaml as a location",
        )
    location = catalog_service.get_location(session, row.location_id)
    return _tree_root(runtime, location) / row.source_path


def _tree_root(runtime: Runtime, location: Location) -> Path:
    """The directory ``source_path`` is relative to, as ingestion opened it."""
    settings = runtime.settings
    try:
        if location.type == "git":
            url, _ = split_git_target(location.target)
            # The catalog's checkout (catalog.sources.checkout_git names it so); fetched only
            # when this process has none yet, so running a template never waits on the network.
            checkout = settings.data_dir / "git" / hashlib.sha256(url.encode()).hexdigest()[:20]
            if (checkout / ".git").is_dir():
                return Path(os.path.realpath(checkout))
            return checkout_git(url, settings.catalog, settings.data_dir)[0]
        return open_location(
            location.type, location.target, settings.catalog, settings.data_dir
        ).tree.root
    except SourceError as error:
        raise InputError(
            f"The files of location {location.type}:{location.target} are not readable: "
            f"{error.message}",
            hint=error.hint,
        ) from None


def _read_entity(path: Path) -> dict[str, Any]:
    try:
        entity = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}{where} is not valid YAML: {error}") from None
    if not isinstance(entity, dict) or entity.get("kind") != "Template":
        raise InputError(f"{path} does not hold a Template (kind: Template)")
    return entity
