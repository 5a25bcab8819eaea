"""Filters templates use: Backstage's own (``parseRepoUrl``, ``parseEntityRef``, ``pick``,
``projectSlug``) and the Nunjucks built-ins that Jinja lacks or spells differently (``dump``,
``title``, ``nl2br``). Values are shown the way JavaScript shows them, since that is what
Backstage templates were written against (``true``, ``1`` rather than ``True``, ``1.0``)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jinja2 import Undefined
from jinja2.exceptions import TemplateRuntimeError

from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.scaffolder.engine.scope import Missing, MissingValue

_OMIT = object()  # JSON.stringify leaves undefined out of objects


class FilterError(TemplateRuntimeError):
    """A filter given a value it cannot work with; says what it expected."""


def needed(value: Any) -> Any:
    """``value``, or the error that names it when it is missing."""
    if isinstance(value, Undefined):
        raise MissingValue(value._undefined_name, value._undefined_hint)
    return value


# -- showing values as JavaScript does ---------------------------------------------------------


def js_number(value: float) -> int | float | None:
    if math.isnan(value) or math.isinf(value):
        return None
    return int(value) if value.is_integer() else value


def js_text(value: Any) -> str:
    """``String(value)`` in JavaScript: what ``+`` with a string makes of a value."""
    value = needed(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        number = js_number(value)
        return "NaN" if number is None else str(number)
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, list | tuple):
        return ",".join(
            "" if item is None or isinstance(item, Undefined) else js_text(item) for item in value
        )
    return str(value)


def finalize(value: Any) -> Any:
    """What ``${{ x }}`` prints: nothing for a missing value or null, JavaScript text otherwise."""
    if value is None or isinstance(value, Undefined):
        return ""
    if isinstance(value, str):
        return value
    return js_text(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Undefined):
        return _OMIT
    if isinstance(value, Mapping):
        items = ((str(k), _jsonable(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not _OMIT}
    if isinstance(value, list | tuple):
        return [None if (item := _jsonable(v)) is _OMIT else item for v in value]
    if isinstance(value, float):
        return js_number(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def js_json(value: Any, indent: int | str | None = None) -> str | None:
    """``JSON.stringify(value, null, indent)``; None where JavaScript gives undefined."""
    plain = _jsonable(value)
    if plain is _OMIT:
        return None
    if indent in (None, 0, ""):
        return json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(plain, ensure_ascii=False, indent=indent)


def dump(value: Any, indent: int | str | None = None) -> Any:
    text = js_json(value, indent)
    return Missing(hint="dump of a missing value") if text is None else text


def title(value: Any) -> str:
    """Nunjucks' title: each space-separated word capitalised (``hello-world`` stays one word)."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in finalize(value).split(" "))


def nl2br(value: Any) -> str:
    return re.sub(r"\r\n|\n", "<br />\n", finalize(value))


# -- Backstage's filters -----------------------------------------------------------------------

_REQUIRED_BY_HOST = (
    ("bitbucket", ("project", "repo")),
    ("dev.azure.com", ("project", "repo")),
    ("visualstudio.com", ("project", "repo")),
    ("gitea", ("repo",)),
    ("gerrit", ("repo",)),
)


def parse_repo_url(url: Any, allowed_hosts: Sequence[str]) -> dict[str, str]:
    """``host?owner=..&repo=..`` (what RepoUrlPicker writes) into its parts, as Backstage does."""
    text = needed(url)
    if not isinstance(text, str) or not text:
        raise FilterError(
            f"parseRepoUrl needs a string like github.com?owner=acme&repo=x, got {js_json(text)}"
        )
    try:
        parts = urlsplit(f"https://{text}")
        host = parts.netloc
    except ValueError as error:
        raise FilterError(f"parseRepoUrl: {text!r} is not a repository URL: {error}") from None
    if allowed_hosts and host not in allowed_hosts:
        raise FilterError(
            f"parseRepoUrl: host {host!r} is not allowed (allowed: {', '.join(allowed_hosts)}); "
            "add it to PAVEDROAD_SCAFFOLDER__ALLOWED_HOSTS"
        )
    query = {key: values[0] for key, values in parse_qs(parts.query).items() if values[0]}
    for key in _required_params(host, query):
        if key not in query:
            raise FilterError(f"parseRepoUrl: {text!r} has no {key}; write {host}?owner=..&repo=..")
    parsed = {"host": host}
    for key in ("owner", "repo", "organization", "workspace", "project"):
        if key in query:
            parsed[key] = query[key]
    return parsed


def _required_params(host: str, query: Mapping[str, str]) -> tuple[str, ...]:
    for marker, required in _REQUIRED_BY_HOST:
        if marker in host:
            return ("workspace", *required) if host == "www.bitbucket.org" else required
    if "gitlab" in host:
        return () if "project" in query else ("owner", "repo")
    return ("repo", "owner")


def parse_entity_ref(ref: Any, context: Any = None) -> dict[str, str]:
    text = needed(ref)
    defaults = context if isinstance(context, Mapping) else {}
    try:
        parsed = parse_ref(
            text,
            default_kind=defaults.get("defaultKind"),
            default_namespace=defaults.get("defaultNamespace") or "default",
        )
    except RefError as error:
        raise FilterError(f"parseEntityRef: {error}") from None
    return {"kind": parsed.kind, "namespace": parsed.namespace, "name": parsed.name}


def pick(value: Any, path: Any) -> Any:
    """lodash ``get``: ``obj | pick('a.b[0]')``; missing along the way gives nothing."""
    current = needed(value)
    for part in re.findall(r"[^.\[\]]+", str(needed(path))):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return Missing(hint=f"pick found nothing at {path}")
    return current


def project_slug(url: Any, allowed_hosts: Sequence[str]) -> str:
    parsed = parse_repo_url(url, allowed_hosts)
    return f"{parsed.get('owner', '')}/{parsed.get('repo', '')}"


def template_filters(allowed_hosts: Sequence[str]) -> dict[str, Callable[..., Any]]:
    """Every filter templates get beyond Jinja's built-ins."""
    hosts = tuple(allowed_hosts)
    return {
        "dump": dump,
        "title": title,
        "nl2br": nl2br,
        "parseRepoUrl": lambda url: parse_repo_url(url, hosts),
        "parseEntityRef": parse_entity_ref,
        "pick": pick,
        "projectSlug": lambda url: project_slug(url, hosts),
    }
