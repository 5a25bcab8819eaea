"""The API tab: an API entity's ``spec.definition`` shown for its ``spec.type``.

OpenAPI is handed to the vendored Swagger UI as inline JSON (nothing is fetched); AsyncAPI,
GraphQL and gRPC are highlighted with highlight.js; anything else is plain text. The raw text is
always on the page, to read without JavaScript and to copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import yaml

from pavedroad.catalog.hooks import TabContext

TYPE_LABELS = {
    "openapi": "OpenAPI",
    "asyncapi": "AsyncAPI",
    "graphql": "GraphQL",
    "grpc": "gRPC",
    "trpc": "tRPC",
}
# highlight.js language per type; the structured types are YAML or JSON, chosen by the text.
LANGUAGES = {"graphql": "graphql", "grpc": "protobuf"}
STRUCTURED = {"openapi", "asyncapi"}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(slots=True)
class Definition:
    """A definition as the tab shows it: its text and, for OpenAPI/AsyncAPI, what it says."""

    type: str
    label: str
    text: str
    language: str | None
    document: dict[str, Any] | None = None
    problem: str | None = None
    operations: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return self.text.count("\n") + (0 if self.text.endswith("\n") else 1)

    @property
    def swagger_json(self) -> str | None:
        """The parsed OpenAPI document as JSON safe inside ``<script>`` (no ``</script>``)."""
        if self.type != "openapi" or self.document is None or self.problem:
            return None
        # YAML gives integer keys for unquoted status codes and dates for date-like values.
        data = orjson.dumps(self.document, option=orjson.OPT_NON_STR_KEYS, default=str)
        return data.decode().replace("<", "\\u003c")


def read_definition(spec: dict[str, Any]) -> Definition | None:
    """The definition in ``spec``, parsed when its type is YAML/JSON; None when there is none."""
    raw = spec.get("definition")
    if raw is None or raw == "":
        return None
    text = raw if isinstance(raw, str) else yaml.safe_dump(raw, sort_keys=False)
    kind = str(spec.get("type") or "").lower()
    label = TYPE_LABELS.get(kind, kind or "Unknown type")
    if kind not in STRUCTURED:
        return Definition(kind, label, text, LANGUAGES.get(kind))
    is_json = text.lstrip().startswith("{")
    definition = Definition(kind, label, text, "json" if is_json else "yaml")
    document, problem = _parse(text, is_json)
    if problem is None and not isinstance(document, dict):
        problem = f"The definition is not a {label} document: it holds a single value, not keys."
    if problem is None and isinstance(document, dict):
        version_key = {"openapi": ("openapi", "swagger"), "asyncapi": ("asyncapi",)}[kind]
        if not any(key in document for key in version_key):
            problem = (
                f"The definition has no `{version_key[0]}` version field, so it is not a "
                f"{label} document. It is shown as stored."
            )
    definition.problem = problem
    if problem is None and isinstance(document, dict):
        for key in version_key:  # YAML reads `openapi: 3.1` as a number; viewers want text
            if key in document:
                document[key] = str(document[key])
        definition.document = document
        definition.label = f"{label} {document.get(kind) or document.get('swagger') or ''}".strip()
        definition.operations = _operations(document) if kind == "openapi" else []
        definition.channels = _channels(document) if kind == "asyncapi" else []
    return definition


def _parse(text: str, is_json: bool) -> tuple[Any, str | None]:
    if is_json:
        try:
            return orjson.loads(text), None
        except orjson.JSONDecodeError as error:
            return None, f"The definition is not valid JSON: {error}."
    try:
        return yaml.safe_load(text), None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error)
        return None, f"The definition is not valid YAML{where}: {reason}."


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Method, path and summary of every OpenAPI operation: the page without Swagger UI."""
    paths = document.get("paths")
    found = []
    for path, item in (paths or {}).items() if isinstance(paths, dict) else []:
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                summary = operation.get("summary") or operation.get("operationId") or ""
                found.append(
                    {
                        "method": method.upper(),
                        "path": str(path),
                        "summary": str(summary),
                        "deprecated": bool(operation.get("deprecated")),
                    }
                )
    return found


def _channels(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Each AsyncAPI channel with what an application does on it (2.x and 3.x)."""
    channels = document.get("channels")
    if not isinstance(channels, dict):
        return []
    actions: dict[str, list[dict[str, Any]]] = {name: [] for name in channels}
    for name, channel in channels.items():
        for verb in ("publish", "subscribe"):  # AsyncAPI 2: operations live in the channel
            operation = channel.get(verb) if isinstance(channel, dict) else None
            if isinstance(operation, dict):
                actions[name].append(_action(verb, operation))
    operations = document.get("operations")  # AsyncAPI 3: operations point at channels
    for operation in (operations or {}).values() if isinstance(operations, dict) else []:
        if not isinstance(operation, dict) or not isinstance(operation.get("channel"), dict):
            continue
        target = str(operation["channel"].get("$ref", "")).rsplit("/", 1)[-1]
        if target in actions:
            actions[target].append(_action(str(operation.get("action", "operation")), operation))
    return [
        {
            "name": str(name),
            "address": channel.get("address") if isinstance(channel, dict) else None,
            "description": channel.get("description") if isinstance(channel, dict) else None,
            "actions": actions[name],
        }
        for name, channel in channels.items()
    ]


def _action(verb: str, operation: dict[str, Any]) -> dict[str, Any]:
    """What an application does on a channel, and the names of the messages involved."""
    return {
        "verb": verb,
        "summary": str(operation.get("summary") or ""),
        "messages": _message_names(operation.get("message") or operation.get("messages")),
    }


def _message_names(message: Any) -> list[str]:
    if isinstance(message, list):
        return [name for item in message for name in _message_names(item)]
    if not isinstance(message, dict):
        return []
    if "oneOf" in message:
        return _message_names(message["oneOf"])
    name = message.get("name") or str(message.get("$ref", "")).rsplit("/", 1)[-1]
    return [str(name)] if name else []


def build(context: TabContext) -> dict[str, Any]:
    spec = context.entity.get("spec")
    definition = read_definition(spec) if isinstance(spec, dict) else None
    info = (definition.document or {}).get("info") if definition else None
    return {
        "ref": context.ref,
        "definition": definition,
        "info": info if isinstance(info, dict) else {},
        "servers": _servers(definition.document if definition else None),
    }


def _servers(document: dict[str, Any] | None) -> list[dict[str, str]]:
    """AsyncAPI servers (a mapping by name); OpenAPI's are shown by Swagger UI itself."""
    servers = (document or {}).get("servers")
    if not isinstance(servers, dict):
        return []
    return [
        {
            "name": str(name),
            "url": str(server.get("url") or server.get("host") or ""),
            "protocol": str(server.get("protocol") or ""),
            "description": str(server.get("description") or ""),
        }
        for name, server in servers.items()
        if isinstance(server, dict)
    ]
