"""The Locations pages: every registered location with its status, and one location's errors,
the files it read and a refresh button — the page an owner opens to learn why an entity did not
appear. Entity providers' errors are listed beside the locations.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pavedroad.catalog import service
from pavedroad.catalog.models import Entity, IngestionError, Location, LocationFile
from pavedroad.catalog.visibility import location_resource
from pavedroad.core.clock import as_utc
from pavedroad.core.db import chunks
from pavedroad.core.errors import NotFoundError
from pavedroad.core.web import run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.web import navigation
from pavedroad.web.templating import is_htmx, render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
navigation.register(navigation.NavItem("Locations", "/locations", "◈", 35))

# Failing locations first: they are why people open this page.
STATUS_ORDER = {"failed": 0, "partial": 1, "pending": 2, "ok": 3}
STAGE_LABELS = {
    "read": "could not be read",
    "syntax": "not valid YAML",
    "envelope": "not an entity",
    "validation": "invalid",
    "conflict": "name taken",
}
FILES_SHOWN = 500
ENTITIES_SHOWN = 100
PROVIDER_ERRORS_SHOWN = 200
TYPE_NAMES = {"file": "File", "glob": "Files matching", "dir": "Folder", "git": "Git repository"}


def relative(moment: datetime | None, now: datetime) -> str:
    """``3 minutes ago`` or ``in 4 minutes``; people read that faster than a timestamp."""
    if moment is None:
        return "never"
    moment = as_utc(moment)
    seconds = (now - moment).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 45:
        return "in a moment" if future else "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size * 0.95:
            count = max(1, round(seconds / size))
            amount = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {amount}" if future else f"{amount} ago"
    return "in a moment" if future else "just now"


def iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    moment = as_utc(moment)
    return moment.isoformat(timespec="seconds")


def location_label(location: Location, data_dir: Path) -> str:
    """How people know a location: pasted descriptors by their file name, others by target."""
    registered = (data_dir / "registered").resolve()
    if location.type == "file" and Path(location.target).parent == registered:
        return f"Pasted descriptor {Path(location.target).name}"
    return location.target


@dataclass(slots=True)
class LocationRow:
    id: str
    type: str
    type_name: str
    target: str
    label: str
    status: str
    entity_count: int
    error_count: int
    refreshed: str
    refreshed_iso: str
    next_refresh: str
    next_refresh_iso: str
    revision: str | None


def row_of(location: Location, data_dir: Path, now: datetime) -> LocationRow:
    return LocationRow(
        id=location.id,
        type=location.type,
        type_name=TYPE_NAMES.get(location.type, location.type),
        target=location.target,
        label=location_label(location, data_dir),
        status=location.status,
        entity_count=location.entity_count,
        error_count=location.error_count,
        refreshed=relative(location.refreshed_at, now),
        refreshed_iso=iso(location.refreshed_at),
        next_refresh=relative(location.next_refresh_at, now) if location.next_refresh_at else "",
        next_refresh_iso=iso(location.next_refresh_at),
        revision=location.revision,
    )


def read_locations(runtime: Runtime, grant: Grant) -> dict[str, Any]:
    now = datetime.now(UTC)
    data_dir = runtime.catalog.data_dir
    with runtime.db.read_session() as session:
        locations = [
            location
            for location in service.list_locations(session)
            if grant.unconditional or grant.allows(location_resource(location))
        ]
        provider_errors = session.scalars(
            select(IngestionError)
            .where(IngestionError.provider.is_not(None))
            .order_by(IngestionError.provider, IngestionError.id)
            .limit(PROVIDER_ERRORS_SHOWN)
        ).all()
    rows = sorted(
        (row_of(location, data_dir, now) for location in locations),
        key=lambda row: (STATUS_ORDER.get(row.status, 9), row.label.lower()),
    )
    by_provider: dict[str, list[IngestionError]] = defaultdict(list)
    for error in provider_errors:
        by_provider[error.provider or ""].append(error)
    return {
        "rows": rows,
        "failing": sum(1 for row in rows if row.status == "failed"),
        "partial": sum(1 for row in rows if row.status == "partial"),
        "entities": sum(row.entity_count for row in rows),
        "errors": sum(row.error_count for row in rows),
        "provider_errors": sorted(by_provider.items()),
    }


@dataclass(slots=True)
class FileErrors:
    file: str
    errors: list[IngestionError]
    status: str | None  # the file's status at the last read, when it was read


def read_location(runtime: Runtime, location_id: str, grant: Grant) -> dict[str, Any]:
    now = datetime.now(UTC)
    with runtime.db.read_session() as session:
        location = service.get_location(session, location_id)
        resource = location_resource(location)
        if not grant.unconditional and not grant.allows(resource):
            raise NotFoundError(f"Found no location with ID {location_id}")
        refresh = runtime.permissions.decide(grant.principal, "catalog.location.refresh", resource)
        errors = service.list_errors(session, location_id=location_id)
        files = session.scalars(
            select(LocationFile)
            .where(LocationFile.location_id == location_id)
            .order_by(LocationFile.path)
            .limit(FILES_SHOWN + 1)
        ).all()
        known = entity_locations(session, {e.entity_ref for e in errors if e.entity_ref})
        entities = session.execute(
            select(Entity.ref, Entity.body)
            .where(Entity.location_id == location_id)
            .order_by(Entity.kind_key, Entity.name_key)
            .limit(ENTITIES_SHOWN)
        ).all()
    statuses = {f.path: f.status for f in files}
    grouped: dict[str, list[IngestionError]] = defaultdict(list)
    for error in errors:
        grouped[error.file or ""].append(error)
    return {
        "can_refresh": refresh.allows(resource),
        "refresh_explanation": refresh.explanation,
        "location": row_of(location, runtime.catalog.data_dir, now),
        "error_groups": [
            FileErrors(file, sorted(items, key=_position), statuses.get(file))
            for file, items in sorted(grouped.items())
        ],
        "error_total": len(errors),
        "entities": [entity_summary(ref, orjson.loads(body)) for ref, body in entities],
        "files": files[:FILES_SHOWN],
        "more_files": len(files) > FILES_SHOWN,
        "known_refs": known,
        "stage_labels": STAGE_LABELS,
        "refresh_minutes": max(1, runtime.settings.catalog.refresh_interval_seconds // 60),
        "scheduled": runtime.settings.catalog.refresh_interval_seconds > 0,
        "descriptor_glob": runtime.settings.catalog.descriptor_glob,
    }


def entity_summary(ref: str, entity: dict[str, Any]) -> dict[str, Any]:
    metadata, spec = entity["metadata"], entity.get("spec")
    owner = spec.get("owner") if isinstance(spec, dict) else None
    return {
        "ref": ref,
        "kind": entity["kind"],
        "name": metadata.get("title") or metadata["name"],
        "description": metadata.get("description") or "",
        "owner": owner if isinstance(owner, str) else None,
    }


def _position(error: IngestionError) -> tuple[int, int, int]:
    return (error.document_index or 0, error.line or 0, error.column or 0)


def entity_locations(session: Session, refs: set[str]) -> dict[str, str | None]:
    """Which of these entity refs are in the catalog now, and from which location."""
    found: dict[str, str | None] = {}
    for chunk in chunks(sorted(refs)):
        statement = select(Entity.ref, Entity.location_id).where(Entity.ref.in_(chunk))
        found.update((ref, location_id) for ref, location_id in session.execute(statement))
    return found


@router.get("/locations", response_class=HTMLResponse)
async def locations_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(attach_viewer)],
    grant: Annotated[Grant, Depends(require("catalog.location.read"))],
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    data = await run_read(lambda: read_locations(runtime, grant))
    data["breadcrumbs"] = [("Catalog", "/catalog"), ("Locations", None)]
    return render(request, "catalog/locations.html", data)


@router.get("/locations/{location_id}", response_class=HTMLResponse)
async def location_page(
    request: Request,
    location_id: str,
    viewer: Annotated[Viewer, Depends(attach_viewer)],
    grant: Annotated[Grant, Depends(require("catalog.location.read"))],
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    data = await run_read(lambda: read_location(runtime, location_id, grant))
    data["refreshed_now"] = _summary_from(request.query_params)
    data["registered"] = request.query_params.get("registered") == "1"
    data["breadcrumbs"] = [("Locations", "/locations"), (data["location"].label, None)]
    return render(request, "catalog/location.html", data)


SUMMARY_KEYS = ("created", "updated", "deleted", "errors")


def _summary_from(params: Any) -> dict[str, int] | None:
    if params.get("refreshed") != "1":
        return None
    return {key: int(params.get(key)) for key in SUMMARY_KEYS if str(params.get(key)).isdigit()}


@router.post("/locations/{location_id}/refresh", response_class=HTMLResponse)
async def refresh_location(
    request: Request,
    location_id: str,
    grant: Annotated[Grant, Depends(require("catalog.location.refresh"))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
) -> Response:
    runtime: Runtime = request.app.state.runtime

    def refresh() -> dict[str, int]:
        with runtime.db.session() as session:
            grant.check(location_resource(service.get_location(session, location_id)))
            refreshed = service.refresh_locations(
                session, runtime.catalog, [location_id], actor=grant.actor
            )[0]
            return service.summarize(refreshed.report)

    # Not a database-read thread: reading a repository again may take seconds.
    summary = await run_in_threadpool(refresh)
    if is_htmx(request):
        data = await run_read(lambda: read_location(runtime, location_id, grant))
        data["refreshed_now"] = summary
        data["registered"] = False
        return render(request, "catalog/_location.html", data)
    query = "&".join(f"{key}={summary[key]}" for key in SUMMARY_KEYS)
    return RedirectResponse(f"/locations/{location_id}?refreshed=1&{query}", status_code=303)
