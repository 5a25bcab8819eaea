"""Request and response bodies of the catalog API (Backstage's shapes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class LocationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="file, glob, dir or git (Backstage's url is read as git)")
    target: str = Field(min_length=1, description="Path, glob, or git URL (with #path-or-glob)")
    presence: Literal["required", "optional"] | None = None


class LocationRead(BaseModel):
    id: str
    type: str
    target: str


class RefreshRequest(BaseModel):
    entityRef: str = Field(min_length=1)  # noqa: N815 - Backstage's field name
    authorizationToken: str | None = None  # noqa: N815


class EntitiesByRefsRequest(BaseModel):
    entityRefs: list[str]  # noqa: N815
    fields: list[str] | None = None


class ValidateEntityRequest(BaseModel):
    location: str = Field(description="Where the entity comes from, e.g. url:https://...")
    entity: Any


class AnalyzeLocationRequest(BaseModel):
    location: LocationSpec
    catalogFilename: str | None = None  # noqa: N815
