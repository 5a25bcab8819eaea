"""From one YAML document to one entity ready to store: Backstage's processing steps, in order.

1. envelope (a mapping with apiVersion, kind, metadata.name), 2. catalog rules (allowed kinds),
3. placeholders (``$text``, ``$json``, ``$yaml``), 4. schema and field-format policies,
5. kind validation by a processor, 6. relations from the kind's ref fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from pavedroad.catalog.descriptors import DescriptorSyntaxError, decode, parse_documents
from pavedroad.catalog.hooks import EntityProcessor, Relation
from pavedroad.catalog.kinds import RelationRefError, relation_ref_problem
from pavedroad.catalog.refs import DEFAULT_NAMESPACE
from pavedroad.catalog.sources import SourceError
from pavedroad.catalog.validation import (
    Problem,
    check_envelope,
    check_metadata,
    get_path,
    kind_not_allowed,
)

MANAGED_BY_LOCATION = "backstage.io/managed-by-location"
MANAGED_BY_ORIGIN_LOCATION = "backstage.io/managed-by-origin-location"
PLACEHOLDERS = ("$text", "$json", "$yaml")

ReadFile = Callable[[str], bytes]
"""Reads a path (as written in a placeholder, relative to the descriptor) from the location."""


@dataclass(slots=True)
class ProcessedEntity:
    """An entity that passed every check, with its lower-cased ref and derived relations."""

    ref: str
    entity: dict[str, Any]
    relations: list[Relation]
    document_index: int
    is_location: bool = False


@dataclass(slots=True)
class DocumentOutcome:
    entity: ProcessedEntity | None
    problems: list[Problem] = field(default_factory=list)
    ref: str | None = None
    index: int = 0


class EntityPipeline:
    """Processes documents with the processors and catalog rules of this installation."""

    def __init__(self, processors: Sequence[EntityProcessor], allowed_kinds: Sequence[str]) -> None:
        self.processors = list(processors)
        allowed = list(allowed_kinds)
        for processor in self.processors:
            allowed.extend(
                k for k in processor.kinds if k.lower() not in {a.lower() for a in allowed}
            )
        self.allowed_kinds = allowed
        self._allowed_keys = {kind.lower() for kind in allowed}

    def process(
        self,
        document: Any,
        index: int,
        *,
        read_placeholder: ReadFile | None,
        annotations: dict[str, str] | None = None,
        scan_placeholders: bool = True,
    ) -> DocumentOutcome:
        """One document through every step; ``scan_placeholders=False`` when the file's text
        holds no ``$text``/``$json``/``$yaml`` at all (most files), which saves a full walk."""
        outcome = self._process(document, index, read_placeholder, annotations, scan_placeholders)
        outcome.index = index
        return outcome

    def _process(
        self,
        document: Any,
        index: int,
        read_placeholder: ReadFile | None,
        annotations: dict[str, str] | None,
        scan_placeholders: bool,
    ) -> DocumentOutcome:
        problems = check_envelope(document)
        if problems:
            return DocumentOutcome(None, problems)
        entity: dict[str, Any] = document
        ref = _ref(entity)
        if entity["kind"].lower() not in self._allowed_keys:
            return DocumentOutcome(
                None, [kind_not_allowed(entity["kind"], self.allowed_kinds)], ref
            )
        if scan_placeholders:
            problems = resolve_placeholders(entity, read_placeholder)
            if problems:
                return DocumentOutcome(None, problems, ref)
        problems = check_metadata(entity)
        if problems:
            return DocumentOutcome(None, problems, ref)
        return self._finish(entity, index, ref, annotations)

    def _finish(
        self, entity: dict[str, Any], index: int, ref: str, annotations: dict[str, str] | None
    ) -> DocumentOutcome:
        metadata = entity["metadata"]
        if "namespace" not in metadata:
            metadata["namespace"] = DEFAULT_NAMESPACE
        for key in ("uid", "etag", "generation"):
            metadata.pop(key, None)
        processor, problems = self._validate_kind(entity, ref)
        if problems:
            return DocumentOutcome(None, problems, ref)
        assert processor is not None
        try:
            relations = list(processor.relations(entity, ref))
        except RelationRefError as error:
            return DocumentOutcome(
                None, [relation_ref_problem(error, get_path(entity, error.path))], ref
            )
        if annotations:
            metadata["annotations"] = {**(metadata.get("annotations") or {}), **annotations}
        is_location = entity["kind"].lower() == "location"
        return DocumentOutcome(ProcessedEntity(ref, entity, relations, index, is_location), [], ref)

    def _validate_kind(
        self, entity: dict[str, Any], ref: str
    ) -> tuple[EntityProcessor | None, list[Problem]]:
        for processor in self.processors:
            problems = processor.validate(entity)
            if problems is not None:
                return processor, problems
        return None, [
            Problem(
                "no-processor-for-kind-or-apiVersion",
                f'no processor recognises kind "{entity["kind"]}" with apiVersion '
                f'"{entity["apiVersion"]}" ({ref})',
                ("apiVersion",),
                "built-in kinds use apiVersion backstage.io/v1alpha1 (Template: "
                "scaffolder.backstage.io/v1beta3); other kinds need a plugin that validates them",
            )
        ]

    def process_text(
        self,
        content: bytes,
        *,
        read_placeholder: ReadFile | None,
        annotations: dict[str, str] | None = None,
    ) -> tuple[list[DocumentOutcome], str]:
        """Every document of a file; a syntax error raises :class:`DescriptorSyntaxError`."""
        text = decode(content)
        scan = any(placeholder in text for placeholder in PLACEHOLDERS)
        outcomes = [
            self.process(
                doc.data,
                doc.index,
                read_placeholder=read_placeholder,
                annotations=annotations,
                scan_placeholders=scan,
            )
            for doc in parse_documents(text)
        ]
        return outcomes, text


def _ref(entity: dict[str, Any]) -> str:
    metadata = entity["metadata"]
    namespace = metadata.get("namespace") or DEFAULT_NAMESPACE
    return f"{entity['kind']}:{namespace}/{metadata['name']}".lower()


def resolve_placeholders(entity: dict[str, Any], read: ReadFile | None) -> list[Problem]:
    """Replace ``{$text: path}`` (and ``$json``, ``$yaml``) by the file's content, in place."""
    problems: list[Problem] = []

    def visit(value: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key in PLACEHOLDERS:
                    return _substitute(key, argument, path)
            for key, item in value.items():
                value[key] = visit(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = visit(item, (*path, index))
        return value

    def _substitute(key: str, argument: Any, path: tuple[str | int, ...]) -> Any:
        if not isinstance(argument, str) or not argument:
            problems.append(
                Problem(
                    "placeholder-unresolvable",
                    f"{key} needs a file path as its value, found {argument!r}",
                    (*path, key),
                    f"e.g. {key}: ./openapi.yaml",
                )
            )
            return None
        if read is None:
            problems.append(
                Problem("placeholder-read-failed", f"{key} cannot be read here", (*path, key))
            )
            return None
        try:
            content = read(argument)
        except SourceError as error:
            problems.append(
                Problem(
                    "placeholder-read-failed",
                    f"{key} {argument} could not be read: {error.message}",
                    (*path, key),
                    error.hint,
                )
            )
            return None
        return _parse_placeholder(key, argument, content, path, problems)

    visit(entity, ())
    return problems


def _parse_placeholder(
    key: str, argument: str, content: bytes, path: tuple[str | int, ...], problems: list[Problem]
) -> Any:
    try:
        text = decode(content)
        if key == "$text":
            return text
        if key == "$json":
            return json.loads(text)
        documents = parse_documents(text)
        if len(documents) != 1:
            raise ValueError(f"expected one YAML document, found {len(documents)}")
        return documents[0].data
    except (DescriptorSyntaxError, ValueError) as error:
        reason = error.message if isinstance(error, DescriptorSyntaxError) else str(error)
        problems.append(
            Problem(
                "placeholder-read-failed",
                f"{key} {argument} is not valid {key[1:].upper()}: {reason}",
                (*path, key),
                f"fix {argument}, or use $text to embed it as plain text",
            )
        )
        return None


def content_hash(entity: dict[str, Any]) -> str:
    """Hash of everything that makes an entity what it is (not its uid or etag)."""
    return hashlib.sha256(
        orjson.dumps(entity, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    ).hexdigest()[:32]
