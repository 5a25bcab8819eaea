"""The Create pages: the template gallery, the parameters form page by page with inline
validation, a review, then a run (or a dry run)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pavedroad.catalog import queries
from pavedroad.catalog.entity_json import entity_dict
from pavedroad.catalog.visibility import visible_entities
from pavedroad.core.errors import PavedroadError
from pavedroad.permissions.dependencies import Grant, require
from pavedroad.scaffolder import service, tasks
from pavedroad.scaffolder.dry_run import dry_run
from pavedroad.scaffolder.views.form import Choice, fields_of, typed_values, visible_properties
from pavedroad.web import navigation
from pavedroad.web.templating import is_htmx, render
from pavedroad.web.viewer import Viewer, attach_viewer

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

router = APIRouter(include_in_schema=False)
navigation.register(navigation.NavItem("Create", "/create", "+", 20))
PICKER_CHOICES = 300
RunGrant = Annotated[Grant, Depends(require("scaffolder.template.run"))]
ViewerDep = Annotated[Viewer, Depends(attach_viewer)]


def _templates(runtime: Runtime, grant: Grant) -> list[dict[str, Any]]:
    with runtime.db.read_session() as session:
        page = queries.query_entities(
            session,
            queries.EntityQuery(
                [[("kind", ("template",))]],
                queries.Order("metadata.name"),
                restriction=visible_entities(grant),
            ),
            limit=queries.MAX_LIMIT,
            cache=runtime.catalog.cache,
        )
    return [entity_dict(body, relations) for _, _, body, relations in page.rows]


@router.get("/create", response_class=HTMLResponse)
async def gallery(request: Request, grant: RunGrant, viewer: ViewerDep) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    templates = await run_in_threadpool(_templates, runtime, grant)
    tags = sorted({tag for t in templates for tag in t["metadata"].get("tags") or []})
    wanted = request.query_params.get("tag")
    shown = [t for t in templates if not wanted or wanted in (t["metadata"].get("tags") or [])]
    context = {
        "templates": shown,
        "tags": tags,
        "tag": wanted,
        "total": len(templates),
        "breadcrumbs": [("Create", None)],
    }
    return render(request, "scaffolder/gallery.html", context)


def template_ref(namespace: str, name: str) -> str:
    return f"template:{namespace}/{name}".lower()


def _choices(
    runtime: Runtime, grant: Grant, kinds_by_field: Mapping[str, tuple[str, ...]]
) -> dict[str, list[Choice]]:
    """Options of the pickers: entities of their kinds, by title, that the viewer may see."""
    found: dict[str, list[Choice]] = {}
    with runtime.db.read_session() as session:
        for name, kinds in kinds_by_field.items():
            filters: queries.FilterGroups = [[("kind", kinds)]] if kinds else []
            page = queries.query_entities(
                session,
                queries.EntityQuery(
                    filters, queries.Order("metadata.name"), restriction=visible_entities(grant)
                ),
                limit=PICKER_CHOICES,
                with_total=False,
                cache=runtime.catalog.cache,
            )
            found[name] = [_choice(ref, body) for _, ref, body, _ in page.rows]
    return found


def _choice(ref: str, body: str) -> Choice:
    entity = orjson.loads(body)
    spec = entity["spec"] if isinstance(entity.get("spec"), dict) else {}
    profile = spec["profile"] if isinstance(spec.get("profile"), dict) else {}
    title = entity["metadata"].get("title") or profile.get("displayName") or ""
    return Choice(ref, f"{title} ({ref})" if title else ref)


class Wizard:
    """One template's form: which page, the values so far, and the problems to show."""

    def __init__(self, runtime: Runtime, grant: Grant, ref: str) -> None:
        from pavedroad.scaffolder import engine

        self.runtime, self.grant, self.ref = runtime, grant, ref
        with runtime.db.read_session() as session:
            self.source = engine.load_template(runtime, session, ref)
        grant.check(self.source.entity, ref=ref)
        self.steps = engine.parameter_steps(self.source.entity)
        self.engine = engine

    def problems(self, values: Mapping[str, Any], step: int | None) -> dict[str, str]:
        """Problems by field, for one page (or all pages when ``step`` is None)."""
        found = self.engine.validate_parameters(self.source.entity, values)
        if step is None:
            return {p.field: p.message for p in found}
        names = set(visible_properties(self.steps[step], values)) if self.steps else set()
        return {p.field: p.message for p in found if p.field.split(".")[0] in names}

    def suggested(self, schema: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        """A plain ``repoUrl`` field left empty gets a new repository under the platform's
        repositories root, named after the ``name`` parameter (people may change it)."""
        spec = (schema.get("properties") or {}).get("repoUrl")
        name = values.get("name")
        if (
            not isinstance(spec, Mapping)
            or spec.get("ui:field")
            or values.get("repoUrl")
            or not name
        ):
            return dict(values)
        root = self.runtime.settings.resolved_repositories_root
        return {**values, "repoUrl": f"file://{root.resolve()}/{name}.git"}

    def context(
        self, step: int, values: Mapping[str, Any], errors: Mapping[str, str]
    ) -> dict[str, Any]:
        metadata = self.source.entity["metadata"]
        reviewing = step >= len(self.steps)
        fields = []
        if not reviewing:
            schema = self.steps[step]
            values = self.suggested(schema, values)
            pickers = {
                f.name: f.picker_kinds
                for f in fields_of(schema, values, {}, {})
                if f.widget == "picker"
            }
            choices = _choices(self.runtime, self.grant, pickers) if pickers else {}
            fields = fields_of(schema, values, errors, choices)
        return {
            "ref": self.ref,
            "template": self.source.entity,
            "title": metadata.get("title") or metadata["name"],
            "steps": [s.get("title") or f"Step {i + 1}" for i, s in enumerate(self.steps)],
            "step": step,
            "reviewing": reviewing,
            "fields": fields,
            "values": values,
            "values_json": orjson.dumps(dict(values)).decode(),
            "secret_fields": self.engine.secret_fields(self.source.entity),
            "errors": errors,
            "breadcrumbs": [
                ("Create", "/create"),
                (metadata.get("title") or metadata["name"], None),
            ],
        }


@router.get("/create/templates/{namespace}/{name}", response_class=HTMLResponse)
async def template_form(
    request: Request, namespace: str, name: str, grant: RunGrant, viewer: ViewerDep
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime

    def build() -> dict[str, Any]:
        wizard = Wizard(runtime, grant, template_ref(namespace, name))
        values = wizard.engine.apply_defaults(wizard.source.entity, {})
        return wizard.context(0, values, {})

    return render(request, "scaffolder/wizard.html", await run_in_threadpool(build))


@router.post("/create/templates/{namespace}/{name}")
async def template_step(
    request: Request, namespace: str, name: str, grant: RunGrant, viewer: ViewerDep
) -> Response:
    runtime: Runtime = request.app.state.runtime
    form = await request.form()
    action = str(form.get("action") or "next")

    def handle() -> Response:
        wizard = Wizard(runtime, grant, template_ref(namespace, name))
        step = min(max(int(str(form.get("step") or 0)), 0), len(wizard.steps))
        values = _carried(form)
        if step < len(wizard.steps):
            values = {
                **_without(values, wizard.steps[step]),
                **typed_values(wizard.steps[step], form, values),
            }
        return _advance(request, wizard, step, values, action)

    return await run_in_threadpool(handle)


def _advance(
    request: Request, wizard: Wizard, step: int, values: dict[str, Any], action: str
) -> Response:
    if action == "check":  # inline validation: problems of the fields filled in so far
        errors = {k: v for k, v in wizard.problems(values, step).items() if k in values}
        if is_htmx(request):
            context = wizard.context(step, values, errors)
            return render(request, "scaffolder/_field_errors.html", context)
        return _page(request, wizard, step, values, errors)
    if action == "back":
        return _page(request, wizard, max(step - 1, 0), values, {})
    if action == "next":
        errors = wizard.problems(values, step)
        if errors:
            return _page(request, wizard, step, values, errors, status=400)
        return _page(request, wizard, step + 1, values, {})
    errors = wizard.problems(values, None)
    if errors:
        first = _first_step_with(wizard, errors, values)
        return _page(request, wizard, first, values, errors, status=400)
    if action == "dry-run":
        return _dry_run(request, wizard, values)
    try:
        task_id = service.start_run(
            wizard.runtime,
            request.app.state.scaffolder_runner,
            template_ref=wizard.ref,
            values=values,
            actor=wizard.grant.actor,
        )
    except tasks.InvalidParameters as invalid:
        errors = {p.field: p.message for p in invalid.problems}
        return _page(request, wizard, step, values, errors, status=400)
    return RedirectResponse(f"/create/tasks/{quote(task_id)}", status_code=303)


def _page(
    request: Request,
    wizard: Wizard,
    step: int,
    values: dict[str, Any],
    errors: Mapping[str, str],
    *,
    status: int = 200,
) -> Response:
    context = wizard.context(step, values, errors)
    return render(request, "scaffolder/wizard.html", context, status_code=status)


def _first_step_with(wizard: Wizard, errors: Mapping[str, str], values: Mapping[str, Any]) -> int:
    for index, schema in enumerate(wizard.steps):
        if set(visible_properties(schema, values)) & {key.split(".")[0] for key in errors}:
            return index
    return len(wizard.steps)


def _carried(form: Any) -> dict[str, Any]:
    """The values of the other pages, carried in the form as JSON."""
    try:
        carried = orjson.loads(str(form.get("values_json") or "{}"))
    except orjson.JSONDecodeError:
        return {}
    return carried if isinstance(carried, dict) else {}


def _without(values: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without this page's fields (a cleared field must not keep its old value)."""
    names = set(visible_properties(schema, values))
    return {key: value for key, value in values.items() if key not in names}


def _dry_run(request: Request, wizard: Wizard, values: dict[str, Any]) -> Response:
    try:
        done = dry_run(wizard.runtime, wizard.ref, values, actor=wizard.grant.actor)
    except PavedroadError as error:
        return _page(request, wizard, len(wizard.steps), values, {"": error.message}, status=400)
    context = {
        **wizard.context(len(wizard.steps), values, {}),
        "result": done.result,
        "files": done.files,
        "log": done.log,
    }
    return render(request, "scaffolder/dry_run.html", context)
