"""Which generated repositories are behind their template: each one's record read from its
default branch and compared with the template's current version.

Statuses: ``current``; ``behind`` (the template's files differ from those the repository was
made from or last upgraded to); ``template gone`` (the template is no longer in the catalog);
``no record`` (no ``.pavedroad/template.yaml``: made before records, by another tool, or by a
template that opts out); ``unreachable`` (the repository could not be cloned).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.core.errors import PavedroadError
from pavedroad.scaffolder.models import ScaffolderTask
from pavedroad.scaffolder.upgrades import clones
from pavedroad.scaffolder.upgrades.record import RECORD_PATH, TemplateRecord, read_record
from pavedroad.scaffolder.upgrades.versions import CurrentTemplates, label

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

CURRENT, BEHIND, GONE, NO_RECORD, UNREACHABLE = (
    "current",
    "behind",
    "template gone",
    "no record",
    "unreachable",
)


@dataclass(frozen=True)
class DriftRow:
    """One repository of the report."""

    repository: str
    status: str
    template: str = ""
    generated_version: str = ""
    current_version: str = ""
    problem: str = ""

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "repository": self.repository,
            "template": self.template,
            "generatedVersion": self.generated_version,
            "currentVersion": self.current_version,
            "status": self.status,
        }
        if self.problem:
            shown["problem"] = self.problem
        return shown


def generated_repositories(session: Session) -> list[str]:
    """Every repository completed, real (not dry) runs published, oldest first, once each.

    Runs keep their rendered ``spec.output``, not their steps' outputs: a repository is its
    ``remoteUrl`` output or a link to a git remote (``file://``, or ``https://…​.git``).
    """
    outputs = session.scalars(
        select(ScaffolderTask.output)
        .where(ScaffolderTask.status == "completed", ScaffolderTask.dry_run.is_(False))
        .order_by(ScaffolderTask.created_at)
    ).all()
    found: dict[str, None] = {}
    for output in outputs:
        for url in _remotes(output or {}):
            found.setdefault(url)
    return list(found)


def _remotes(output: dict[str, Any]) -> Iterable[str]:
    if isinstance(output.get("remoteUrl"), str):
        yield output["remoteUrl"]
    for link in output.get("links") or []:
        url = link.get("url") if isinstance(link, dict) else None
        if isinstance(url, str) and (
            url.startswith("file://") or (url.startswith("https://") and url.endswith(".git"))
        ):
            yield url


def drift_report(
    runtime: Runtime, repositories: Sequence[str], *, template_dir: Path | None = None
) -> list[DriftRow]:
    """A row per repository, in the order given."""
    templates = CurrentTemplates(runtime, template_dir)
    return [_row(repository, templates) for repository in repositories]


def read_repository_record(url: str, scratch: Path) -> TemplateRecord | None:
    """The record on the default branch of the repository at ``url`` (a shallow clone)."""
    clone = clones.clone(url, scratch / "repository", shallow=True)
    text = clones.read_at_head(clone, RECORD_PATH)
    return read_record(text, url) if text is not None else None


def _row(repository: str, templates: CurrentTemplates) -> DriftRow:
    try:
        url = clones.remote_url(repository)
        with tempfile.TemporaryDirectory(prefix="pavedroad-drift-") as scratch:
            record = read_repository_record(url, Path(scratch))
    except PavedroadError as error:
        return DriftRow(repository, UNREACHABLE, problem=error.message)
    if record is None:
        return DriftRow(repository, NO_RECORD, problem=f"no {RECORD_PATH} on its default branch")
    current = templates.get(record.template)
    if current is None:
        problem = templates.problems.get(record.template.lower(), "")
        return DriftRow(repository, GONE, record.template, record.version, problem=problem)
    status = CURRENT if current.version == record.content_version else BEHIND
    return DriftRow(repository, status, record.template, record.version, label(current))
