"""Entity references: ``[<kind>:][<namespace>/]<name>``, parsed and compared as Backstage does.

Refs are compared lower-cased; the parts keep their case in the entity itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_NAMESPACE = "default"


class RefError(ValueError):
    """A string that is not a valid entity ref in its context."""


@dataclass(frozen=True, slots=True)
class EntityRef:
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}".lower()


def parse_ref(
    ref: str, *, default_kind: str | None = None, default_namespace: str = DEFAULT_NAMESPACE
) -> EntityRef:
    """Parse a ref, filling missing parts from the context; raise :class:`RefError` if invalid.

    The first ``:`` splits off the kind unless a ``/`` comes before it; the first ``/`` splits
    namespace from name. Empty parts are invalid (``group:``, ``:x``, ``default/``).
    """
    if not isinstance(ref, str):
        raise RefError(f"Entity reference must be a string, found {type(ref).__name__}")
    colon = ref.find(":")
    slash = ref.find("/")
    kind: str | None = None
    namespace: str | None = None
    rest = ref
    if colon != -1 and (slash == -1 or colon < slash):
        kind, rest = ref[:colon], ref[colon + 1 :]
        if not kind:
            raise RefError(_form_message(ref))
    slash = rest.find("/")
    if slash != -1:
        namespace, rest = rest[:slash], rest[slash + 1 :]
        if not namespace:
            raise RefError(_form_message(ref))
    if not rest:
        raise RefError(_form_message(ref))
    kind = kind or default_kind
    if not kind:
        raise RefError(
            f'Entity reference "{ref}" had missing or empty kind '
            '(e.g. did not start with "component:" or similar)'
        )
    return EntityRef(kind, namespace or default_namespace, rest)


def _form_message(ref: str) -> str:
    return f'Entity reference "{ref}" was not on the form [<kind>:][<namespace>/]<name>'


def ref_of(entity: dict[str, Any]) -> str:
    """The lower-cased ref of an entity dict (namespace defaulted)."""
    metadata = entity.get("metadata") or {}
    namespace = metadata.get("namespace") or DEFAULT_NAMESPACE
    return f"{entity.get('kind')}:{namespace}/{metadata.get('name')}".lower()


def normalise_ref(ref: str) -> str:
    """A ref string as stored: parsed strictly (kind required) and lower-cased."""
    return str(parse_ref(ref))


def entity_path(ref: str) -> str:
    """The portal page of an entity: ``/catalog/<namespace>/<kind>/<name>``."""
    parsed = parse_ref(ref, default_kind="component")
    return f"/catalog/{parsed.namespace.lower()}/{parsed.kind.lower()}/{parsed.name}"


def short_ref(
    ref: str, *, default_kind: str | None = None, namespace: str = DEFAULT_NAMESPACE
) -> str:
    """A ref as people write it: kind and namespace left out when they are the defaults."""
    parsed = parse_ref(ref, default_kind=default_kind or "component")
    text = (
        parsed.name
        if parsed.namespace.lower() == namespace
        else f"{parsed.namespace}/{parsed.name}"
    )
    if default_kind is None or parsed.kind.lower() != default_kind.lower():
        text = f"{parsed.kind.lower()}:{text}"
    return text
