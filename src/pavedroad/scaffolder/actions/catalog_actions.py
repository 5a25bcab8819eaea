"""``catalog:write``, ``catalog:fetch`` and ``catalog:register``: descriptors written into the
workspace, entities read from the catalog, and a new location registered — through the
catalog's own service, as the run's actor, so it is audited like any registration."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
import yaml

from pavedroad.catalog import queries
from pavedroad.catalog import service as catalog_service
from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.core.errors import ConflictError, InputError
from pavedroad.scaffolder.actions.base import (
    ActionError,
    BuiltinAction,
    boolean,
    obj,
    string,
    strings,
)
from pavedroad.scaffolder.actions.workspace import safe_child_path
from pavedroad.scaffolder.hooks import ActionContext

SOURCE_TEMPLATE = "backstage.io/source-template"


class CatalogWrite(BuiltinAction):
    id = "catalog:write"
    description = (
        "Writes `entity` as a YAML descriptor into the workspace (default `catalog-info.yaml`), "
        f"annotated with `{SOURCE_TEMPLATE}` (the template that made it)."
    )
    input_schema = {
        **obj(
            ["entity"],
            filePath=string("Where to write it, relative to the workspace."),
            entity={"type": "object", "description": "The entity to write."},
        ),
        "additionalProperties": False,
    }

    def handler(self, context: ActionContext) -> None:
        path = context.input.get("filePath") or "catalog-info.yaml"
        target = safe_child_path(context.workspace, path, what="filePath")
        entity = dict(context.input["entity"])
        metadata = dict(entity.get("metadata") or {})
        metadata["annotations"] = {
            **(metadata.get("annotations") or {}),
            SOURCE_TEMPLATE: context.template_ref,
        }
        entity["metadata"] = metadata
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(entity, sort_keys=False, allow_unicode=True))
        context.log(f"Wrote {path}")


class CatalogFetch(BuiltinAction):
    id = "catalog:fetch"
    description = (
        "Reads entities from the catalog: `entityRef` gives output `entity`, `entityRefs` gives "
        "`entities` (null for each one not found when `optional`)."
    )
    input_schema = {
        **obj(
            [],
            entityRef=string("The entity to read, e.g. group:default/team-a."),
            entityRefs=strings("Several entities to read."),
            optional=boolean("A missing entity is not an error."),
            defaultKind=string("Kind of short refs (no kind: part)."),
            defaultNamespace=string("Namespace of short refs; default: default."),
        ),
        "additionalProperties": False,
        "anyOf": [{"required": ["entityRef"]}, {"required": ["entityRefs"]}],
    }
    output_schema = obj(
        [],
        entity={"type": "object", "description": "The entity of `entityRef`."},
        entities={"type": "array", "items": {"type": ["object", "null"]}},
    )

    def handler(self, context: ActionContext) -> None:
        given = context.input
        with context.runtime.db.read_session() as session:
            if "entityRef" in given:
                entity = self._read(session, given, given["entityRef"])
                if entity is not None:
                    context.output("entity", entity)
            if "entityRefs" in given:
                context.output(
                    "entities", [self._read(session, given, r) for r in given["entityRefs"]]
                )

    def _read(self, session: Any, given: dict[str, Any], ref: str) -> dict[str, Any] | None:
        try:
            key = str(
                parse_ref(
                    ref,
                    default_kind=given.get("defaultKind"),
                    default_namespace=given.get("defaultNamespace") or "default",
                )
            )
        except RefError as error:
            raise ActionError(str(error), "write kind:namespace/name or set defaultKind") from None
        row = queries.entity_row(session, key)
        if row is None:
            if given.get("optional"):
                return None
            raise ActionError(
                f"{key} is not in the catalog", "set optional: true to go on without it"
            )
        entity: dict[str, Any] = orjson.loads(row[2])
        entity["relations"] = orjson.loads(row[3])
        return entity


class CatalogRegister(BuiltinAction):
    id = "catalog:register"
    description = (
        "Registers the new repository's descriptor in the catalog: `catalogInfoUrl` (a file:// "
        "path, or `<git repository>#<path>`), or `repoContentsUrl` plus `catalogInfoPath` "
        "(default /catalog-info.yaml). Outputs the registered `entityRef` (a Component when "
        "there is one) and `catalogInfoUrl`. A dry run skips it, as Backstage's does."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "catalogInfoUrl": string("The descriptor: file:///path or <repository>#<path>."),
            "repoContentsUrl": string("The repository (publish:git's repoContentsUrl)."),
            "catalogInfoPath": string("The descriptor's path in the repository."),
            "optional": boolean("Already registered or unreadable is not an error."),
        },
        "oneOf": [{"required": ["catalogInfoUrl"]}, {"required": ["repoContentsUrl"]}],
        "additionalProperties": False,
    }
    output_schema = obj(
        ["catalogInfoUrl"],
        entityRef=string("The registered entity (a Component when there is one)."),
        catalogInfoUrl=string("What was registered."),
    )
    supports_dry_run = False

    def handler(self, context: ActionContext) -> None:
        url = catalog_info_url(context.input)
        location = location_for(url)
        context.log(f"Registering {url} in the catalog")
        refs = register(context, location, optional=bool(context.input.get("optional")))
        chosen = choose_entity(refs)
        if chosen is not None:
            context.output("entityRef", chosen)
        context.output("catalogInfoUrl", url)


def catalog_info_url(given: dict[str, Any]) -> str:
    if "catalogInfoUrl" in given:
        return str(given["catalogInfoUrl"])
    base, _, inside = str(given["repoContentsUrl"]).partition("#")
    path = posixpath.join(
        inside, str(given.get("catalogInfoPath") or "/catalog-info.yaml").lstrip("/")
    )
    local = Path(unquote(urlsplit(base).path)) if base.startswith("file://") else None
    if local is not None and local.is_dir() and not _is_git(local):
        return f"{base.rstrip('/')}/{path}"
    return f"{base}#{path}"


def _is_git(path: Path) -> bool:
    return (path / ".git").exists() or (path / "HEAD").is_file()


def location_for(url: str) -> tuple[str, str]:
    """The catalog location a descriptor URL means."""
    if "#" in url:
        return "git", url
    if url.startswith("file://"):
        return "file", unquote(urlsplit(url).path)
    if os.path.isabs(url):
        return "file", url
    raise ActionError(
        f"catalog:register cannot register {url!r}",
        "give a file:// path, or a git repository and the file after '#' "
        "(file:///srv/repos/x.git#catalog-info.yaml)",
    )


def register(context: ActionContext, location: tuple[str, str], *, optional: bool) -> list[str]:
    """Register ``location`` (its own transaction) and the refs it brought in."""
    runtime = context.runtime
    with runtime.db.session() as session:
        try:
            [refresh] = catalog_service.register_locations(
                session, runtime.catalog, [location], actor=context.actor
            )
        except (ConflictError, InputError) as error:
            if not optional:
                raise ActionError(error.message, "set optional: true to accept this") from None
            context.log(f"Not registered ({error.message}); optional, so going on")
            return _refs_of(session, runtime, location)
        report = refresh.report
        if report.errors and not report.entity_refs:
            problems = "; ".join(problem.describe() for problem in report.errors[:5])
            if not optional:
                raise ActionError(f"the catalog refused {location[1]}: {problems}")
            context.log(f"The catalog refused {location[1]}: {problems}")
        return list(report.entity_refs)


def _refs_of(session: Any, runtime: Any, location: tuple[str, str]) -> list[str]:
    try:
        found = catalog_service.dry_run_location(session, runtime.catalog, *location)
    except InputError:
        return []
    return [processed.ref for processed in found.entities]


def choose_entity(refs: list[str]) -> str | None:
    """Backstage's choice: a Component not named generated-*, else any such, else the first."""
    named = [ref for ref in refs if not ref.split("/", 1)[-1].startswith("generated-")]
    components = [ref for ref in named if ref.startswith("component:")]
    chosen = components or named or refs
    return chosen[0] if chosen else None
