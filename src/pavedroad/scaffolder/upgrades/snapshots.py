"""A copy of a template's files per content version, so the version a repository was generated
from can be rendered again after the template has changed (the base of a three-way merge).

``data_dir/scaffolder/template-versions/<hash>/`` holds ``template/`` (the template's folder as
it was run) and ``entity.json`` (the Template entity as the run saw it: a catalog template may
live in a file not named template.yaml). A snapshot is written once and never changed; it is
checked against its hash so a template edited while it was being copied is not kept.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import orjson

from pavedroad.config import Settings
from pavedroad.core.errors import NotFoundError
from pavedroad.scaffolder.engine import TemplateSource
from pavedroad.scaffolder.engine.sources import template_version


def snapshots_root(settings: Settings) -> Path:
    return settings.data_dir / "scaffolder" / "template-versions"


def snapshot_path(settings: Settings, content_version: str) -> Path:
    if not content_version.isalnum():  # a hash; anything else could name a path elsewhere
        raise NotFoundError(f"{content_version!r} is not a template content version")
    return snapshots_root(settings) / content_version


def keep_snapshot(settings: Settings, source: TemplateSource) -> bool:
    """Store ``source``'s files under its content version unless they are stored already;
    False when the files no longer match the version (they changed since it was read)."""
    target = snapshot_path(settings, source.version)
    if (target / "entity.json").is_file():
        return True
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".incoming-", dir=target.parent))
    try:
        shutil.copytree(
            source.directory,
            scratch / "template",
            symlinks=True,
            ignore=shutil.ignore_patterns(".git"),
        )
        if template_version(scratch / "template") != source.version:
            return False
        (scratch / "entity.json").write_bytes(orjson.dumps(source.entity))
        try:
            scratch.rename(target)  # atomic: a reader sees all of a snapshot or none
        except OSError:
            # Another run stored the same version meanwhile; theirs is as good as ours.
            return (target / "entity.json").is_file()
        return True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def load_snapshot(settings: Settings, ref: str, content_version: str) -> TemplateSource:
    """The template ``ref`` as it was at ``content_version``; :class:`NotFoundError` when this
    server keeps no snapshot of it."""
    folder = snapshot_path(settings, content_version)
    if not (folder / "entity.json").is_file():
        raise NotFoundError(
            f"No snapshot of {ref} at content version {content_version[:12]} is kept in "
            f"{snapshots_root(settings)}, so the version this repository was generated from "
            "cannot be rendered and a three-way merge is not possible",
            hint="snapshots are written by the server that ran the template; run the upgrade "
            "with that server's data directory (PAVEDROAD_DATA_DIR)",
        )
    entity = orjson.loads((folder / "entity.json").read_bytes())
    return TemplateSource(ref, entity, folder / "template", content_version)
