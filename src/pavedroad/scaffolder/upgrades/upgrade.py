"""Bringing a generated repository up to its template's current version: a three-way merge
(base = the recorded version rendered, ours = the repository, theirs = the current version
rendered) committed on a new branch and pushed, for people to review and merge. The default
branch is never written to.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pavedroad.core.actors import Actor
from pavedroad.core.errors import ConflictError, InputError, NotFoundError
from pavedroad.scaffolder import engine
from pavedroad.scaffolder.upgrades import clones
from pavedroad.scaffolder.upgrades.merge import Change, Labels, Tree, merge_into
from pavedroad.scaffolder.upgrades.record import (
    MASK,
    RECORD_PATH,
    TemplateRecord,
    read_record,
    recorded_values,
    short_version,
)
from pavedroad.scaffolder.upgrades.snapshots import keep_snapshot, load_snapshot
from pavedroad.scaffolder.upgrades.versions import CurrentTemplates, label, render

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

NOTE_PATH = "PAVEDROAD-UPGRADE.md"


@dataclass
class Upgrade:
    """What an upgrade did; no ``branch`` when the repository was current already."""

    repository: str
    template: str
    from_version: str
    to_version: str
    branch: str = ""
    changes: list[Change] = field(default_factory=list)
    commit: str = ""
    pushed: bool = False
    clone: Path | None = None  # the clone left for people to look at (not pushed)

    @property
    def conflicts(self) -> list[Change]:
        return [change for change in self.changes if change.kind == "conflict"]


def default_branch_name(template_ref: str, version: str) -> str:
    name = template_ref.rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9._/-]+", "-", f"pavedroad/upgrade-{name}-{short_version(version)}")


def upgrade_repository(
    runtime: Runtime,
    repository: str,
    *,
    actor: Actor,
    branch: str | None = None,
    template_dir: Path | None = None,
    values: Mapping[str, Any] = {},
    push: bool = True,
) -> Upgrade:
    """Upgrade ``repository`` (a clone URL or path) to its template's current version;
    ``values`` add to or replace the recorded ones (a parameter the new version needs)."""
    url = clones.remote_url(repository)
    workdir = Path(tempfile.mkdtemp(prefix="pavedroad-upgrade-"))
    kept = False
    try:
        clone = clones.clone(url, workdir / "repository", shallow=False)
        record = _record(clone, repository)
        current = _current(runtime, record, repository, template_dir)
        upgrade = Upgrade(repository, record.template, record.version, label(current))
        if current.version == record.content_version:
            return upgrade
        base = load_snapshot(runtime.settings, record.template, record.content_version)
        new_values = {**record.values, **values}
        _check_values(current, new_values)
        old_files, new_files = (
            render(
                runtime,
                source,
                given,
                source_path=record.source_path,
                scratch=workdir / "r",
                actor=actor,
            )
            for source, given in ((base, record.values), (current, new_values))
        )
        shutil.rmtree(workdir / "r")  # only the files were wanted; a --no-push clone stays alone
        upgrade.branch = branch or default_branch_name(record.template, upgrade.to_version)
        if clones.remote_has_branch(clone, upgrade.branch):
            raise ConflictError(
                f"{repository} has a branch {upgrade.branch} already",
                hint="merge or delete it, or name another with --branch",
            )
        new_record = record.upgraded(
            upgrade.to_version, current.version, recorded_values(current.entity, new_values)
        )
        _commit_merge(clone, upgrade, old_files, new_files, new_record)
        # The new version is the base of this repository's next upgrade.
        keep_snapshot(runtime.settings, current)
        if push:
            clones.push_branch(clone, upgrade.branch)
            upgrade.pushed = True
        else:
            upgrade.clone, kept = clone, True
        return upgrade
    finally:
        if not kept:
            shutil.rmtree(workdir, ignore_errors=True)


def _commit_merge(
    clone: Path, upgrade: Upgrade, old_files: Tree, new_files: Tree, record: TemplateRecord
) -> None:
    """The merge, the new record and (with conflicts) the note, committed on the new branch."""
    default = clones.current_branch(clone)
    clones.start_branch(clone, upgrade.branch)
    labels = Labels(
        f"repository ({default})",
        f"template {short_version(upgrade.from_version)}",
        f"template {short_version(upgrade.to_version)}",
    )
    upgrade.changes = merge_into(clone, old_files, new_files, labels, {RECORD_PATH})
    (clone / RECORD_PATH).write_text(record.to_yaml(), encoding="utf-8")
    if upgrade.conflicts:
        (clone / NOTE_PATH).write_text(_note(upgrade, labels), encoding="utf-8")
    upgrade.commit = clones.commit_all(clone, _message(upgrade))


def _current(
    runtime: Runtime, record: TemplateRecord, repository: str, template_dir: Path | None
) -> engine.TemplateSource:
    templates = CurrentTemplates(runtime, template_dir)
    current = templates.get(record.template)
    if current is None:
        raise NotFoundError(
            f"The template {record.template} of {repository} is gone: "
            f"{templates.problems.get(record.template.lower(), '')}",
            hint="give its folder with --template-dir",
        )
    return current


def _record(clone: Path, repository: str) -> TemplateRecord:
    text = clones.read_at_head(clone, RECORD_PATH)
    if text is None:
        raise InputError(
            f"{repository} has no {RECORD_PATH} on its default branch, so its template and "
            "version are unknown",
            hint="it was generated before pavedroad recorded templates, by another tool, or by "
            "a template that opts out (spec.EXPERIMENTAL_pavedroad.recordTemplate: false)",
        )
    return read_record(text, repository)


def _check_values(current: engine.TemplateSource, values: Mapping[str, Any]) -> None:
    """Refuse values the new version rejects, but for secrets: they are never recorded."""
    hidden = engine.secret_fields(current.entity) | {k for k, v in values.items() if v == MASK}
    completed = engine.apply_defaults(current.entity, values)
    problems = [
        problem
        for problem in engine.validate_parameters(current.entity, completed)
        if re.split(r"[.\[]", problem.field, maxsplit=1)[0] not in hidden
    ]
    if problems:
        listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise InputError(
            f"The recorded values do not fit {current.ref} {short_version(label(current))}: "
            f"{listed}",
            hint="give the new or changed parameters with --set name=value",
        )


def _message(upgrade: Upgrade) -> str:
    lines = [
        f"Upgrade to {upgrade.template} {short_version(upgrade.to_version)}",
        "",
        f"From {short_version(upgrade.from_version)}, by `pavedroad templates upgrade`.",
    ]
    if upgrade.conflicts:
        lines.append(f"{len(upgrade.conflicts)} conflict(s) to resolve: see {NOTE_PATH}.")
    return "\n".join(lines) + "\n"


def _note(upgrade: Upgrade, labels: Labels) -> str:
    listed = "\n".join(f"- `{change.path}`: {change.reason}" for change in upgrade.conflicts)
    return (
        "# Template upgrade: conflicts to resolve\n\n"
        f"`pavedroad templates upgrade` applied {upgrade.template} "
        f"{short_version(upgrade.to_version)} (this repository was at "
        f"{short_version(upgrade.from_version)}) on this branch. These files were changed both "
        "here and by the template and could not be merged:\n\n"
        f"{listed}\n\n"
        f"In a file with conflict markers, the lines after `<<<<<<< {labels.ours}` are the "
        f"repository's, those after `||||||| {labels.base}` what the template had before, and "
        f"those after `=======` (down to `>>>>>>> {labels.theirs}`) what it has now: keep "
        "what is right, remove the markers, commit, and delete this note before merging the "
        "branch.\n"
    )
