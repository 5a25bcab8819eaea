"""Which repository a component's pipeline runs from, and which component a repository is.

A component names its repository with Backstage's ``backstage.io/source-location``
annotation (``url:https://github.com/acme/payments/tree/main/`` or ``url:file:///srv/x.git``).
Webhooks and pollers see the repository's clone URL instead, so both sides are brought to one
form by :func:`normalise_repository` before they are compared.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pavedroad.catalog.models import Entity, EntitySearch

SOURCE_LOCATION = "backstage.io/source-location"
_SEARCH_KEY = f"metadata.annotations.{SOURCE_LOCATION}"
# Browse paths hosts add after the repository: /tree/main/, /-/tree/main, /src/branch/main.
_BROWSE_SUFFIX = re.compile(r"/(?:-/)?(?:tree|blob|src)/.*$")


def normalise_repository(url: str) -> str:
    """One spelling per repository: ``https://host/owner/name`` for hosted ones (no ``.git``,
    no browse path, no credentials, lower-case host) and ``file:///absolute/path`` for local
    ones; a ``url:`` location prefix is dropped."""
    text = url.strip()
    if text.startswith("url:"):
        text = text[4:]
    if text.startswith("git@") and ":" in text:  # scp-like: git@github.com:acme/payments.git
        host, _, path = text[4:].partition(":")
        text = f"https://{host}/{path}"
    parts = urlsplit(text)
    if parts.scheme in ("", "file"):
        path = unquote(parts.path) if parts.scheme else text
        return Path(os.path.abspath(path.rstrip("/") or "/")).as_uri()
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port else ""
    path = _BROWSE_SUFFIX.sub("", parts.path).rstrip("/")
    path = path.removesuffix(".git")
    scheme = "https" if parts.scheme in ("ssh", "git") else parts.scheme
    return f"{scheme}://{host}{port}{path}"


def repository_of_entity(entity: dict[str, Any]) -> str | None:
    """The normalised repository of a catalog entity, from its source-location annotation."""
    annotations = (entity.get("metadata") or {}).get("annotations") or {}
    location = annotations.get(SOURCE_LOCATION)
    if not isinstance(location, str) or not location.strip():
        return None
    if not location.startswith("url:") and ":" in location.split("/", 1)[0]:
        return None  # another location type (file:, github-discovery:), not a repository
    return normalise_repository(location)


def component_for_repository(session: Session, url: str) -> str | None:
    """The ref of the catalog component whose source location is ``url``, or None.

    When several components share a repository (a monorepo), the first by ref is returned.
    """
    wanted = normalise_repository(url)
    for ref, body in _candidates(session, wanted):
        if repository_of_entity(orjson.loads(body)) == wanted:
            return ref
    return None


def local_component_repositories(session: Session) -> list[tuple[str, str]]:
    """``(repository, component ref)`` for every component whose repository is a local
    (``file://``) one, in ref order: the ones pavedroad can watch with no further setup."""
    rows = session.execute(
        select(Entity.ref, Entity.body)
        .join(EntitySearch, EntitySearch.entity_id == Entity.id)
        .where(
            EntitySearch.key == _SEARCH_KEY,
            or_(EntitySearch.value.like("url:file:%"), EntitySearch.value.is_(None)),
        )
        .order_by(Entity.ref)
    )
    found = []
    for ref, body in rows:
        repository = repository_of_entity(orjson.loads(body))
        if repository is not None and repository.startswith("file://"):
            found.append((repository, ref))
    return found


def _candidates(session: Session, wanted: str) -> list[tuple[str, str]]:
    """Entities whose indexed source location may be ``wanted``: the search rows are
    lower-cased and the URL may be spelt several ways, so match on its last segment and let
    the caller compare the normalised forms."""
    tail = wanted.rstrip("/").rsplit("/", 1)[-1].lower()
    rows = session.execute(
        select(Entity.ref, Entity.body)
        .join(EntitySearch, EntitySearch.entity_id == Entity.id)
        .where(
            EntitySearch.key == _SEARCH_KEY,
            or_(
                EntitySearch.value.like(f"%{_escape_like(tail)}%", escape="\\"),
                EntitySearch.value.is_(None),
            ),
        )
        .order_by(Entity.ref)
    )
    return [(ref, body) for ref, body in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
