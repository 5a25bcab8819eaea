"""The catalog's tables: locations, the files they led to, entities, search rows, relations and
ingestion errors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pavedroad.core.db import Base


class Location(Base):
    """A registered place entities are read from: a file, glob, directory or git repository."""

    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("type", "target"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(255))
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_refresh_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    entity_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[str | None] = mapped_column(String(64))


class LocationFile(Base):
    """A file a location led to at its last refresh, and which file's Location entity named it.

    Kept so that a file which fails to read keeps not only its own entities but also everything
    that was reached through it before.
    """

    __tablename__ = "location_files"

    location_id: Mapped[str] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(2048), primary_key=True)
    parent_path: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(16))
    entity_count: Mapped[int] = mapped_column(Integer, default=0)


class Entity(Base):
    """An entity as served: the final document (JSON text) plus columns for fast filters."""

    __tablename__ = "entities"
    __table_args__ = (
        Index("ix_entities_kind_key_ref", "kind_key", "ref"),
        Index("ix_entities_kind_key_name_key", "kind_key", "name_key"),
        Index("ix_entities_location_id", "location_id"),
        Index("ix_entities_provider", "provider"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    ref: Mapped[str] = mapped_column(String(400), unique=True)
    kind_key: Mapped[str] = mapped_column(String(63))
    namespace_key: Mapped[str] = mapped_column(String(63))
    name_key: Mapped[str] = mapped_column(String(253), index=True)
    location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    provider: Mapped[str | None] = mapped_column(String(128))
    source_path: Mapped[str | None] = mapped_column(String(2048))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The two big columns come last: SQLite reads a row's columns in order, so a scan of
    # the narrow columns never has to step over the JSON body's overflow pages.
    search_text: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)


class StitchedRelations(Base):
    """Each entity's relations as served (JSON), kept by ``catalog.stitching``.

    A table of its own so that restitching after an ingest rewrites narrow rows: updating the
    entities table would rewrite every entity row (and, on PostgreSQL, every index on it).
    """

    __tablename__ = "stitched_relations"

    entity_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    relations: Mapped[str] = mapped_column(Text)


class CatalogState(Base):
    """One row: a number that every change to the entities increments, in the same transaction.

    Readers compare it with the number their cached counts and facets were computed at; any
    process, on any replica, sees a change as soon as it is committed.
    """

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class EntitySearch(Base):
    """Flattened ``key = value`` rows of every entity, lower-cased, as Backstage's search table.

    Filters (``spec.type=service``, ``metadata.tags.java``) and facets are answered from here.
    """

    __tablename__ = "entity_search"
    __table_args__ = (
        Index("ix_entity_search_key_value", "key", "value", "entity_id"),
        Index("ix_entity_search_entity_id", "entity_id"),
    )
    # No surrogate key and no foreign key: millions of rows are written per large ingest, and
    # every index or per-row constraint trigger costs seconds there. Rows are removed with
    # their entity by ``entity_removal.delete_entities``, the only path that deletes entities.
    __mapper_args__ = {"primary_key": ["entity_id", "key", "value"]}

    entity_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(String(200))
    original_value: Mapped[str | None] = mapped_column(String(200))
    # A string item of a list: ``metadata.tags = java`` then also matches the existence
    # filter ``metadata.tags.java`` (Backstage stores a second row for that).
    in_array: Mapped[bool] = mapped_column(Boolean, default=False)


class EntityRelation(Base):
    """One direction of a relation, attributed to the entity whose processing produced it.

    Both directions are stored; relations to or from entities that do not exist are kept
    (dangling) exactly as Backstage keeps them.
    """

    __tablename__ = "relations"
    __table_args__ = (
        Index("ix_relations_source_ref", "source_ref"),
        Index("ix_relations_target_ref_type_key", "target_ref", "type_key"),
        Index("ix_relations_originating_entity_id", "originating_entity_id"),
    )
    # Like the search rows: no surrogate key, no foreign key (see EntitySearch).
    __mapper_args__ = {"primary_key": ["originating_entity_id", "source_ref", "type", "target_ref"]}

    originating_entity_id: Mapped[int] = mapped_column(Integer)
    source_ref: Mapped[str] = mapped_column(String(400))
    type: Mapped[str] = mapped_column(String(64))
    type_key: Mapped[str] = mapped_column(String(64))
    target_ref: Mapped[str] = mapped_column(String(400))


class IngestionError(Base):
    """Something that stopped a file or an entity from being ingested, kept until it is fixed."""

    __tablename__ = "ingestion_errors"
    __table_args__ = (
        Index("ix_ingestion_errors_location_id", "location_id"),
        Index("ix_ingestion_errors_entity_ref", "entity_ref"),
        Index("ix_ingestion_errors_provider", "provider"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    provider: Mapped[str | None] = mapped_column(String(128))
    file: Mapped[str | None] = mapped_column(String(2048))
    document_index: Mapped[int | None] = mapped_column(Integer)
    line: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[int | None] = mapped_column(Integer)
    entity_ref: Mapped[str | None] = mapped_column(String(400))
    field: Mapped[str | None] = mapped_column(String(512))
    category: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    hint: Mapped[str] = mapped_column(Text, default="")
    # read, syntax, envelope (Backstage too refuses the whole file), validation, or conflict.
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EntityStar(Base):
    """An entity someone starred, by ref (a star survives the entity being re-ingested)."""

    __tablename__ = "entity_stars"

    user_ref: Mapped[str] = mapped_column(String(400), primary_key=True)
    entity_ref: Mapped[str] = mapped_column(String(400), primary_key=True)
    starred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EntityVisit(Base):
    """When someone last opened an entity's page (for "recently visited")."""

    __tablename__ = "entity_visits"
    __table_args__ = (Index("ix_entity_visits_user_ref_visited_at", "user_ref", "visited_at"),)

    user_ref: Mapped[str] = mapped_column(String(400), primary_key=True)
    entity_ref: Mapped[str] = mapped_column(String(400), primary_key=True)
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
