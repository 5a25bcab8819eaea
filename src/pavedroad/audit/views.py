"""The auditor's page: the usual questions one click away, any filter in the URL (so a view can
be shared), a table of events a page at a time, and exports of exactly what is shown.

HTMX swaps the results in place; without JavaScript the form submits and links navigate.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from pavedroad.audit.filters import DEFAULT_PAGE_SIZE, FilterError, FilterInput, parse_filters
from pavedroad.audit.models import AuditEvent
from pavedroad.audit.presets import PRESETS
from pavedroad.audit.queries import AuditPage, Cursor, search_events
from pavedroad.audit.service import RESULTS, is_entity_ref
from pavedroad.catalog.refs import entity_path
from pavedroad.catalog.views.locations_page import iso, relative
from pavedroad.core.web import run_read
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.web import navigation
from pavedroad.web.templating import is_htmx, render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
navigation.register(navigation.NavItem("Audit", "/audit", "⌕", 70, section="Administration"))
RESULT_BADGES = {"success": "badge-success", "denied": "badge-warning", "failed": "badge-danger"}
SUMMARY_CHARACTERS = 60


@dataclass(frozen=True, slots=True)
class AuditView:
    """What the page was asked for, read from (and written back to) the URL."""

    filters: FilterInput
    cursor: str | None = None

    @classmethod
    def from_request(cls, request: Request) -> AuditView:
        params = request.query_params
        raw = FilterInput(
            actor=params.get("actor"),
            action=params.get("action"),
            resource=params.get("resource"),
            resource_type=params.get("resourceType"),
            result=params.get("result"),
            since=params.get("since"),
            until=params.get("until"),
            where=tuple(params.getlist("where")),
            preset=params.get("preset"),
        )
        return cls(raw.cleaned(), params.get("cursor") or None)

    def url(self, *, cursor: Cursor | None = None, **changes: Any) -> str:
        """This view's URL with some filters changed, at the first page unless ``cursor``."""
        pairs = replace(self.filters, **changes).params()
        if cursor is not None:
            pairs.append(("cursor", cursor.encode()))
        return "/audit" + (f"?{urlencode(pairs)}" if pairs else "")

    def canonical_url(self) -> str:
        """The URL of exactly this view, without the empty fields a submitted form adds."""
        pairs = [*self.filters.params(), *([("cursor", self.cursor)] if self.cursor else [])]
        return "/audit" + (f"?{urlencode(pairs)}" if pairs else "")

    def export_url(self, fmt: str) -> str:
        return "/api/audit/events/export?" + urlencode([*self.filters.params(), ("format", fmt)])

    @property
    def filtered(self) -> bool:
        return bool(self.filters.params())


@dataclass(slots=True)
class EventRow:
    """One event as the table shows it."""

    id: int
    when: str
    when_iso: str
    actor: str
    actor_url: str | None
    action: str
    resource: str
    resource_url: str | None
    resource_type: str
    result: str
    badge: str
    client_ip: str
    request_id: str
    summary: str
    metadata: list[tuple[str, str]]
    extra: list[str] = field(default_factory=list)


def link_of(ref: str) -> str | None:
    """The portal page of what ``ref`` names, when it has one."""
    if is_entity_ref(ref):
        return entity_path(ref)
    kind, _, rest = ref.partition(":")
    return f"/locations/{rest}" if kind == "location" and rest else None


def row_of(event: AuditEvent, columns: tuple[tuple[str, str], ...], now: datetime) -> EventRow:
    details = event.details or {}
    summary = ", ".join(f"{key}: {_plain(value)}" for key, value in details.items())
    if len(summary) > SUMMARY_CHARACTERS:
        summary = summary[: SUMMARY_CHARACTERS - 1] + "…"
    return EventRow(
        id=event.id,
        when=relative(event.at, now),
        when_iso=iso(event.at),
        actor=event.actor,
        actor_url=link_of(event.actor),
        action=event.event,
        resource=event.target,
        resource_url=link_of(event.target),
        resource_type=event.resource_type,
        result=event.result,
        badge=RESULT_BADGES.get(event.result, ""),
        client_ip=event.client_ip or "",
        request_id=event.request_id or "",
        summary=summary,
        metadata=[(str(key), _plain(value)) for key, value in details.items()],
        extra=[_plain(details.get(key)) for _, key in columns],
    )


def _plain(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def read_events(runtime: Runtime, view: AuditView) -> AuditPage:
    """The page of events ``view`` asks for; raises :class:`FilterError` for a bad filter."""
    query = parse_filters(view.filters)
    cursor = Cursor.decode(view.cursor) if view.cursor else None
    with runtime.db.read_session() as session:
        return search_events(session, query, limit=DEFAULT_PAGE_SIZE, cursor=cursor)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    grant: Annotated[Grant, Depends(require("audit.read"))],
    viewer: Annotated[Viewer, Depends(attach_viewer)],
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    view = AuditView.from_request(request)
    preset = PRESETS.get(view.filters.preset or "")
    columns = preset.columns if preset else ()
    context: dict[str, Any] = {
        "view": view,
        "presets": list(PRESETS.values()),
        "preset": preset,
        "columns": [heading for heading, _ in columns],
        "results": RESULTS,
        "rows": [],
        "page_size": DEFAULT_PAGE_SIZE,
        "error": None,
        "breadcrumbs": [("Administration", None), ("Audit", None)],
    }
    status = 200
    try:
        page = await run_read(lambda: read_events(runtime, view))
    except FilterError as error:
        context["error"] = error
        # htmx does not swap error responses: a fragment says what is wrong with a 200.
        status = 200 if is_htmx(request) else 400
    else:
        now = datetime.now(UTC)
        context["rows"] = [row_of(event, columns, now) for event in page.events]
        context["older_url"] = view.url(cursor=page.older) if page.older else None
        context["newer_url"] = view.url(cursor=page.newer) if page.newer else None
    if is_htmx(request):
        # The address bar shows the shareable form of the view, not every empty form field.
        headers = {"HX-Push-Url": view.canonical_url()}
        return render(request, "audit/_events.html", context, status_code=status, headers=headers)
    return render(request, "audit/audit.html", context, status_code=status)
