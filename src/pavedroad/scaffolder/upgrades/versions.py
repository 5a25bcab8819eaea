"""The two versions of a template an upgrade compares: the current one (from the catalog, or a
folder), and the one a repository was generated from (its snapshot), each rendered with the
repository's recorded values into a scratch folder — a dry run: nothing published or
registered, only the files kept."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pavedroad.core.actors import Actor
from pavedroad.core.errors import InputError, NotFoundError
from pavedroad.scaffolder import engine, service
from pavedroad.scaffolder.actions.workspace import safe_child_path
from pavedroad.scaffolder.engine.parameters import secret_form_fields
from pavedroad.scaffolder.upgrades.merge import Tree, read_tree
from pavedroad.scaffolder.upgrades.record import MASK, RECORD_PATH, short_version, version_label

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime


class CurrentTemplates:
    """The current version of each template, read once per report: a folder given with
    ``--template-dir`` for the template it holds, the catalog for the others."""

    def __init__(self, runtime: Runtime, folder: Path | None = None) -> None:
        self.runtime = runtime
        self.given = engine.template_from_directory(folder) if folder is not None else None
        self.found: dict[str, engine.TemplateSource | None] = {}
        self.problems: dict[str, str] = {}

    def get(self, ref: str) -> engine.TemplateSource | None:
        """The template ``ref`` as it is now; None when it is gone (see :attr:`problems`)."""
        key = ref.lower()
        if self.given is not None and self.given.ref == key:
            return self.given
        if key not in self.found:
            try:
                with self.runtime.db.read_session() as session:
                    self.found[key] = engine.load_template(self.runtime, session, key)
            except (NotFoundError, InputError) as error:
                self.found[key] = None
                self.problems[key] = error.message
        return self.found[key]


def label(source: engine.TemplateSource) -> str:
    """The version of ``source`` as the record and reports name it."""
    return version_label(source.entity, source.version)


def render(
    runtime: Runtime,
    source: engine.TemplateSource,
    values: Mapping[str, Any],
    *,
    source_path: str,
    scratch: Path,
    actor: Actor,
) -> Tree:
    """The files the repository would hold had ``source`` been run with ``values``."""
    workspace = scratch / source.version
    # Form secrets were never recorded; a placeholder renders wherever one was used, the same
    # in both versions, so it shows up as a change only where the template's use of it changed.
    secrets = dict.fromkeys(secret_form_fields(source.entity), MASK)
    result = engine.run_template(
        runtime,
        source,
        engine.apply_defaults(source.entity, values),
        workspace=workspace,
        user=service.template_user(runtime, actor.ref),
        actor=actor,
        secrets=secrets,
        dry_run=True,
    )
    if result.status != "completed":
        raise InputError(
            f"Rendering {source.ref} {short_version(label(source))} with the recorded values "
            f"failed: {result.error}",
            hint="the template's steps must run in a dry run; fix the template or pass the "
            "missing values with --set name=value",
        )
    return read_tree(safe_child_path(workspace, source_path), leave_out={RECORD_PATH})
