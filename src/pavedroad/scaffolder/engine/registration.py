"""Refusing, when it is registered, a Template that could never run: steps naming an action
this installation does not have, or parameter pages that are not JSON Schema.

Registered as a catalog entity processor (``pavedroad_catalog_processors``), ahead of the
built-in one: it does the built-in Template checks and relations, then adds its own, so the
problems are stored and shown like any other ingestion error (``spec.steps[2].action``, with the
closest action names as the hint).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from pavedroad.catalog.hooks import Relation
from pavedroad.catalog.kinds import BUILTIN_PROCESSOR
from pavedroad.catalog.validation import Problem
from pavedroad.scaffolder.engine.checks import template_issues


class TemplateActionsProcessor:
    """Validates Template entities against the installed actions."""

    kinds: Sequence[str] = ("Template",)

    def __init__(self, action_ids: Collection[str]) -> None:
        self.action_ids = frozenset(action_ids)

    def _is_template(self, entity: dict[str, Any]) -> bool:
        schema = BUILTIN_PROCESSOR.schema_for(entity)
        return schema is not None and schema.kind == "Template"

    def validate(self, entity: dict[str, Any]) -> list[Problem] | None:
        if not self._is_template(entity):
            return None
        problems = BUILTIN_PROCESSOR.validate(entity) or []
        for issue in template_issues(entity, self.action_ids):
            if issue.blocks_registration:
                problems.append(Problem(issue.category, issue.message, issue.path, issue.hint))
        return problems

    def relations(self, entity: dict[str, Any], ref: str) -> Iterable[Relation]:
        if not self._is_template(entity):
            return []
        return BUILTIN_PROCESSOR.relations(entity, ref)
