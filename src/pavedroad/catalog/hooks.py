"""The catalog's extension points: entity processors (kinds, validation, relations) and providers.

A plugin implements these hooks with ``@hookimpl`` and is installed with an entry point in the
``pavedroad.plugins`` group. The built-in kinds use :func:`pavedroad_catalog_processors` too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pavedroad.catalog.validation import Problem
from pavedroad.config import Settings
from pavedroad.core.plugins import hookspec


@dataclass(frozen=True, slots=True)
class Relation:
    """A directed relation between two entity refs (both lower-cased)."""

    source: str
    type: str
    target: str


@runtime_checkable
class EntityProcessor(Protocol):
    """Validates the kinds it knows and derives their relations.

    ``kinds`` are added to the kinds the catalog accepts. :meth:`validate` returns ``None`` for an
    entity whose kind or apiVersion the processor does not handle, and a list of problems (empty
    when valid) otherwise. :meth:`relations` may raise :class:`ValueError` subclasses for refs that
    cannot be parsed; they are reported as ``entity-ref`` problems.
    """

    kinds: Sequence[str]

    def validate(self, entity: dict[str, Any]) -> list[Problem] | None: ...

    def relations(self, entity: dict[str, Any], ref: str) -> Iterable[Relation]: ...


@runtime_checkable
class EntityProvider(Protocol):
    """Feeds entities from outside files (an HR system, LDAP, a cloud inventory).

    :meth:`read` returns the provider's complete current set of entities. The catalog replaces
    everything the provider gave before with this set, all-or-nothing: one invalid entity and the
    whole snapshot is refused with its errors stored, the previous set kept.
    """

    name: str

    def read(self) -> Iterable[dict[str, Any]]: ...


@hookspec
def pavedroad_catalog_processors(settings: Settings) -> Sequence[EntityProcessor]:  # type: ignore[empty-body]
    """Entity processors this plugin contributes."""


@hookspec
def pavedroad_catalog_providers(settings: Settings) -> Sequence[EntityProvider]:  # type: ignore[empty-body]
    """Entity providers this plugin contributes."""


@dataclass(slots=True)
class TabContext:
    """What a tab of an entity page is rendered from (inside a read-only session)."""

    entity: dict[str, Any]
    ref: str
    session: Any  # sqlalchemy.orm.Session; Any keeps plugins free of SQLAlchemy types
    runtime: Any  # pavedroad.runtime.Runtime
    viewer: Any  # pavedroad.web.viewer.Viewer
    query: dict[str, str]  # the page's query parameters (a tab's own options)
    # What of the catalog the viewer may see (pavedroad.catalog.queries.Restriction), None for
    # everything: a tab listing other entities applies it.
    restriction: Any = None
    # Who asks (pavedroad.identity.schemas.Principal), for a tab's own permission checks:
    # whether to show its data, or a button the policy would refuse.
    principal: Any = None


@runtime_checkable
class EntityPageTab(Protocol):
    """A tab on entity pages (CI/CD, Deployments, Health, Docs, ... add theirs).

    ``applies_to`` decides per entity whether the tab is shown; ``render`` returns the tab's
    HTML (a fragment, without the page around it).
    """

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def order(self) -> int: ...

    def applies_to(self, entity: dict[str, Any]) -> bool: ...

    def render(self, context: TabContext) -> str: ...


@hookspec
def pavedroad_entity_page_tabs(settings: Settings) -> Sequence[EntityPageTab]:  # type: ignore[empty-body]
    """Tabs this plugin adds to entity pages."""
