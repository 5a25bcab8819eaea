"""The Register page: paste a descriptor or name a location, see each problem at its line with
the fix, preview the entities and relations it adds, then register it.

Checking is a dry run of the very reading ingestion does (``service.dry_run_location``), so the
page accepts exactly what ingestion accepts. Pasted YAML is kept as a file under
``<data_dir>/registered/`` and registered as a ``file`` location: it is then refreshed, listed
and unregistered like any other location. Everything works without JavaScript (the form posts
and the page comes back with the problems or the preview); with it, the check runs as you type.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pavedroad.catalog import service
from pavedroad.catalog.descriptors import Positions
from pavedroad.catalog.reading import FileProblem
from pavedroad.catalog.service import DryRun
from pavedroad.catalog.sources import LOCATION_TYPES, infer_type, normalise_target
from pavedroad.catalog.views.locations_page import entity_locations
from pavedroad.catalog.views.overview import RELATION_LABELS
from pavedroad.core.actors import Actor
from pavedroad.core.errors import ConflictError, InputError, PavedroadError
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.web import navigation
from pavedroad.web.templating import is_htmx, render, templates
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
navigation.register(navigation.NavItem("Register", "/catalog-import", "⊕", 30))

PASTED_FILE = "descriptor.yaml"  # what problems of pasted text are filed under in a dry run
PREVIEW_LIMIT = 50
READ_AS = {"file": "a file", "glob": "a pattern", "dir": "a folder", "git": "a git repository"}
TYPE_HELP = {
    "file": "one descriptor file",
    "glob": "every file matching a pattern",
    "dir": "every catalog-info.yaml in it",
    "git": "every catalog-info.yaml in it",
}
EXAMPLES = ("component", "api", "system")  # macros of catalog/register_examples.html


@dataclass(slots=True)
class Draft:
    """What the form holds: pasted YAML (``mode`` yaml) or a location target (``mode`` target)."""

    mode: str = "yaml"
    text: str = ""
    type: str = "auto"  # "auto": guessed from the target with ``sources.infer_type``
    target: str = ""

    @classmethod
    def from_values(cls, values: Any) -> Draft:
        mode = str(values.get("mode") or "yaml")
        type_ = str(values.get("type") or "auto")
        # Browsers send a textarea's line breaks as CRLF; the stored file keeps plain LF.
        text = str(values.get("yaml") or "").replace("\r\n", "\n").replace("\r", "\n")
        return cls(
            mode=mode if mode in ("yaml", "target") else "yaml",
            text=text,
            type=type_ if type_ in LOCATION_TYPES else "auto",
            target=str(values.get("target") or "").strip(),
        )

    @property
    def location_type(self) -> str:
        return infer_type(self.target) if self.type == "auto" else self.type

    @property
    def line_count(self) -> int:
        return self.text.count("\n") + 1  # as the editor counts: a final newline opens a line

    @property
    def is_empty(self) -> bool:
        return not (self.text.strip() if self.mode == "yaml" else self.target)


@dataclass(slots=True)
class RelationPreview:
    type: str
    label: str
    target: str
    known: bool  # in the catalog already, or added by this same registration


@dataclass(slots=True)
class EntityPreview:
    ref: str
    kind: str
    name: str
    title: str | None
    owner: str | None
    file: str
    relations: list[RelationPreview] = field(default_factory=list)


@dataclass(slots=True)
class Check:
    """The outcome of checking a draft: problems to fix, or what registering would add."""

    checked: bool = False
    problems: list[FileProblem] = field(default_factory=list)
    entities: list[EntityPreview] = field(default_factory=list)
    entity_total: int = 0
    files: int = 0
    error: str | None = None  # the whole draft cannot be used (unreadable, already registered)
    hint: str = ""
    existing_location_id: str | None = None
    status_code: int = 200

    @property
    def ok(self) -> bool:
        return self.checked and not self.problems and not self.error and self.entity_total > 0

    @property
    def error_lines(self) -> list[int]:
        return sorted({p.line for p in self.problems if p.line is not None and _pasted(p)})


def _pasted(problem: FileProblem) -> bool:
    return problem.file in (None, PASTED_FILE)


# -- checking ------------------------------------------------------------------------------------


def check_draft(runtime: Runtime, draft: Draft) -> Check:
    """Dry-run a draft: its problems (at their lines) or a preview of what it would add."""
    if draft.is_empty:
        return Check()
    try:
        if draft.mode == "yaml":
            return _check_text(runtime, draft.text)
        return _check_target(runtime, draft)
    except ConflictError as error:
        return Check(checked=True, error=error.message, status_code=409)
    except InputError as error:
        hint = str(error.details.get("hint") or "")
        return Check(checked=True, error=error.message, hint=hint, status_code=400)


def _check_text(runtime: Runtime, text: str) -> Check:
    with tempfile.TemporaryDirectory(prefix="pavedroad-draft-") as folder:
        path = Path(folder) / PASTED_FILE
        path.write_text(text, encoding="utf-8")
        with runtime.db.read_session() as session:
            dry_run = service.dry_run_location(session, runtime.catalog, "file", str(path))
            check = _outcome(session, dry_run)
            if check.entities:
                kept = registered_path(runtime.catalog.pasted_folder, text, check.entities[0].name)
                existing = service.find_location(session, "file", str(kept.resolve()))
                if existing is not None:
                    return _already_registered(existing.id)
    _place_conflicts(check.problems, dry_run, text)
    return check


def _already_registered(location_id: str) -> Check:
    return Check(
        checked=True,
        error="This exact descriptor is already registered.",
        hint="Open its location to see what it holds, or change the descriptor.",
        existing_location_id=location_id,
        status_code=409,
    )


def _check_target(runtime: Runtime, draft: Draft) -> Check:
    type_ = draft.location_type
    with runtime.db.read_session() as session:
        existing = service.find_location(session, type_, normalise_target(type_, draft.target))
        if existing is not None:
            return Check(
                checked=True,
                error=f"{type_}:{existing.target} is already registered.",
                hint="Open it to see its errors, or refresh it now.",
                existing_location_id=existing.id,
                status_code=409,
            )
        return _outcome(
            session, service.dry_run_location(session, runtime.catalog, type_, draft.target)
        )


def _outcome(session: Session, dry_run: DryRun) -> Check:
    files = {
        processed.ref: result.path for result in dry_run.files for processed in result.entities
    }
    shown = dry_run.entities[:PREVIEW_LIMIT]
    targets = {r.target for e in shown for r in e.relations if r.source == e.ref}
    known = set(entity_locations(session, targets)) | {e.ref for e in dry_run.entities}
    entities = []
    for processed in shown:
        entity = processed.entity
        spec: dict[str, Any] = entity["spec"] if isinstance(entity.get("spec"), dict) else {}
        owner = spec.get("owner")
        relations = [
            RelationPreview(
                r.type, RELATION_LABELS.get(r.type, r.type), r.target, r.target in known
            )
            for r in sorted(processed.relations, key=lambda r: (r.type, r.target))
            if r.source == processed.ref
        ]
        entities.append(
            EntityPreview(
                ref=processed.ref,
                kind=str(entity["kind"]),
                name=str(entity["metadata"]["name"]),
                title=entity["metadata"].get("title"),
                owner=owner if isinstance(owner, str) else None,
                file=files.get(processed.ref, ""),
                relations=relations,
            )
        )
    if not dry_run.problems and not dry_run.entities:
        return Check(
            checked=True,
            files=len(dry_run.files),
            error="Nothing to register: no entity was found.",
            hint="A descriptor is a YAML document with apiVersion, kind, metadata.name and spec.",
            status_code=422,
        )
    return Check(
        checked=True,
        problems=list(dry_run.problems),
        entities=entities,
        entity_total=len(dry_run.entities),
        files=len(dry_run.files),
        status_code=422 if dry_run.problems else 200,
    )


def _place_conflicts(problems: list[FileProblem], dry_run: DryRun, text: str) -> None:
    """A conflict names an entity, not a place; point it at that entity's ``metadata.name``."""
    documents = {e.ref: e.document_index for e in dry_run.entities}
    positions = Positions(text)
    for problem in problems:
        index = documents.get(problem.entity_ref or "")
        if problem.line is None and index is not None:
            problem.document_index = index
            problem.field = problem.field or "metadata.name"
            found = positions.locate(index, ("metadata", "name"))
            if found is not None:
                problem.line, problem.column = found


# -- registering ---------------------------------------------------------------------------------


def registered_path(folder: Path, text: str, first_name: str) -> Path:
    """Where pasted YAML is kept: ``<folder>/<first entity's name>-<content hash>.yaml``."""
    slug = re.sub(r"[^a-z0-9]+", "-", first_name.lower()).strip("-")[:60] or "descriptor"
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return folder / f"{slug}-{digest}.yaml"


def register_draft(runtime: Runtime, draft: Draft, actor: Actor) -> str | Check:
    """Register a draft; the new location's id, or a :class:`Check` saying what stopped it."""
    if draft.is_empty:
        what = "Paste a descriptor" if draft.mode == "yaml" else "Give a file, folder or URL"
        return Check(checked=True, error=f"{what} to register.", status_code=400)
    if draft.mode == "yaml":
        check = check_draft(runtime, draft)
        if not check.ok:
            return check
        path = registered_path(runtime.catalog.pasted_folder, draft.text, check.entities[0].name)
        target = ("file", str(path.resolve()))
    else:
        path, target = None, (draft.location_type, draft.target)
    created = path is not None and not path.exists()
    if path is not None and created:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(draft.text, encoding="utf-8")
    try:
        with runtime.db.session() as session:
            refreshed = service.register_locations(session, runtime.catalog, [target], actor=actor)
            return refreshed[0].location.id
    except PavedroadError as error:
        if path is not None and created:
            path.unlink(missing_ok=True)  # nothing was registered; leave no stray file behind
        return _refused(runtime, target, error)


def _refused(runtime: Runtime, target: tuple[str, str], error: PavedroadError) -> Check:
    if not isinstance(error, ConflictError):
        hint = str(error.details.get("hint") or "")
        return Check(checked=True, error=error.message, hint=hint, status_code=error.status_code)
    type_, given = target
    with runtime.db.read_session() as session:
        existing = service.find_location(session, type_, normalise_target(type_, given))
    return Check(
        checked=True,
        error=error.message + ".",
        hint="Open the location to see its errors, or refresh it now.",
        existing_location_id=existing.id if existing else None,
        status_code=409,
    )


# -- routes --------------------------------------------------------------------------------------


def _context(draft: Draft, check: Check) -> dict[str, Any]:
    return {
        "draft": draft,
        "check": check,
        "location_types": LOCATION_TYPES,
        "read_as": READ_AS,
        "type_help": TYPE_HELP,
        "guessed_type": infer_type(draft.target) if draft.target else None,
        "examples": list(EXAMPLES),
    }


def _page(request: Request, draft: Draft, check: Check, *, status_code: int = 200) -> HTMLResponse:
    context = {
        **_context(draft, check),
        "breadcrumbs": [("Catalog", "/catalog"), ("Register", None)],
    }
    return render(request, "catalog/register.html", context, status_code=status_code)


def _example(name: str, viewer: Viewer) -> str:
    """A starting descriptor of a kind, owned by the viewer's first team."""
    if name not in EXAMPLES:
        return ""
    groups = [ref for ref in viewer.ownership_refs if ref.startswith("group:")]
    owner = groups[0].split("/")[-1] if groups else "my-team"
    examples = templates.env.get_template("catalog/register_examples.html").module
    return str(getattr(examples, name)(owner=owner)).lstrip("\n")


@router.get("/catalog-import", response_class=HTMLResponse)
async def register_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(attach_viewer)],
    grant: Annotated[Grant, Depends(require("catalog.location.create"))],
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    params = request.query_params
    draft = Draft.from_values({**params, "yaml": _example(params.get("example", ""), viewer)})
    # A link may prefill a target, but reading one is for POSTs that hold the permission.
    check = (
        await run_in_threadpool(check_draft, runtime, draft) if draft.mode == "yaml" else Check()
    )
    return _page(request, draft, check)


@router.post("/catalog-import/validate", response_class=HTMLResponse)
async def validate(
    request: Request,
    # Checking reads files and repositories on the server, as registering does.
    grant: Annotated[Grant, Depends(require("catalog.location.create"))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
) -> HTMLResponse:
    """The check as you type (a fragment for HTMX) or on "Check" without JavaScript (the page)."""
    runtime: Runtime = request.app.state.runtime
    draft = Draft.from_values(await request.form())
    # Not a database-read thread: a check may clone a repository or read many files.
    check = await run_in_threadpool(check_draft, runtime, draft)
    if is_htmx(request):
        return render(request, "catalog/_register_check.html", _context(draft, check))
    return _page(request, draft, check, status_code=check.status_code)


@router.post("/catalog-import", response_class=HTMLResponse)
async def register(
    request: Request,
    grant: Annotated[Grant, Depends(require("catalog.location.create"))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
) -> Response:
    runtime: Runtime = request.app.state.runtime
    draft = Draft.from_values(await request.form())
    outcome = await run_in_threadpool(register_draft, runtime, draft, grant.actor)
    if isinstance(outcome, Check):
        return _page(request, draft, outcome, status_code=outcome.status_code)
    return RedirectResponse(f"/locations/{outcome}?registered=1", status_code=303)
