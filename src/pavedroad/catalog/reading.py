"""Reading a location: its entry files, then every file its Location entities name, breadth first.

Each file is accepted or refused whole: one problem in any document and none of the file's
entities are taken, so a broken edit never half-applies. Problems carry the file, the document
index, the line and column, the field path and a hint.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from pavedroad.catalog.descriptors import DescriptorSyntaxError, Positions
from pavedroad.catalog.processing import (
    MANAGED_BY_LOCATION,
    MANAGED_BY_ORIGIN_LOCATION,
    EntityPipeline,
    ProcessedEntity,
)
from pavedroad.catalog.sources import SourceError, SourceTree
from pavedroad.catalog.validation import Problem


@dataclass(slots=True)
class FileProblem:
    """A problem as stored and shown: what, where in which file, and how to fix it."""

    category: str
    message: str
    stage: str
    file: str | None = None
    document_index: int | None = None
    line: int | None = None
    column: int | None = None
    entity_ref: str | None = None
    field: str | None = None
    hint: str = ""

    def describe(self) -> str:
        """One line a person can act on: ``file:line:col: [doc 2] field: message — hint``."""
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [f"{where}:" if where else ""]
        if self.document_index is not None:
            parts.append(f"(document {self.document_index + 1})")
        parts.append(self.message)
        text = " ".join(p for p in parts if p)
        return f"{text} — {self.hint}" if self.hint else text


@dataclass(slots=True)
class FileResult:
    path: str
    parent: str | None
    depth: int
    entities: list[ProcessedEntity] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.problems)


def stage_of(problem: Problem) -> str:
    return "envelope" if problem.fatal else "validation"


def read_location_files(
    tree: SourceTree,
    entry_paths: list[str],
    pipeline: EntityPipeline,
    *,
    origin: str,
    max_depth: int,
) -> Iterator[FileResult]:
    """Every file the location leads to, in breadth-first order, each accepted or refused whole."""
    queue: deque[tuple[str, str | None, int]] = deque((path, None, 0) for path in entry_paths)
    parents: dict[str, str | None] = {}
    visited: set[str] = set(entry_paths)
    while queue:
        path, parent, depth = queue.popleft()
        parents[path] = parent
        result = read_file(tree, path, parent, depth, pipeline, origin=origin)
        if not result.failed:
            targets = _follow_locations(tree, result, parents, max_depth)
            if result.failed:
                result.entities = []
            else:
                for target in targets:
                    if target not in visited:
                        visited.add(target)
                        queue.append((target, path, depth + 1))
        yield result


def read_file(
    tree: SourceTree,
    path: str,
    parent: str | None,
    depth: int,
    pipeline: EntityPipeline,
    *,
    origin: str,
) -> FileResult:
    result = FileResult(path, parent, depth)
    try:
        content = tree.read(path)
    except SourceError as error:
        result.problems.append(
            FileProblem("location-read-failed", error.message, "read", file=path, hint=error.hint)
        )
        return result

    def read_placeholder(target: str) -> bytes:
        return tree.read(tree.resolve(path, target))

    annotations = {
        MANAGED_BY_LOCATION: tree.name_of(path),
        MANAGED_BY_ORIGIN_LOCATION: origin,
    }
    try:
        outcomes, text = pipeline.process_text(
            content, read_placeholder=read_placeholder, annotations=annotations
        )
    except DescriptorSyntaxError as error:
        result.problems.append(
            FileProblem(
                "yaml-syntax",
                error.message,
                "syntax",
                file=path,
                line=error.line,
                column=error.column,
                hint=error.hint,
            )
        )
        return result
    for outcome in outcomes:
        if outcome.entity is not None:
            result.entities.append(outcome.entity)
    positions = Positions(text)
    for outcome in outcomes:
        for problem in outcome.problems:
            result.problems.append(_located(problem, positions, path, outcome.index, outcome.ref))
    if result.problems:
        result.entities = []
    else:
        result.entities = _last_of_each_ref(result.entities)
    return result


def _located(
    problem: Problem, positions: Positions, path: str, document_index: int, ref: str | None
) -> FileProblem:
    position = positions.locate(document_index, problem.path)
    return FileProblem(
        problem.category,
        problem.message,
        stage_of(problem),
        file=path,
        document_index=document_index,
        line=position[0] if position else None,
        column=position[1] if position else None,
        entity_ref=ref,
        field=problem.field_path if problem.path else None,
        hint=problem.hint,
    )


def _last_of_each_ref(entities: list[ProcessedEntity]) -> list[ProcessedEntity]:
    """The same ref twice in one file is one entity, the later document (as Backstage does)."""
    by_ref: dict[str, ProcessedEntity] = {}
    for entity in entities:
        by_ref.pop(entity.ref, None)
        by_ref[entity.ref] = entity
    return list(by_ref.values())


def _follow_locations(
    tree: SourceTree, result: FileResult, parents: dict[str, str | None], max_depth: int
) -> list[str]:
    """Targets of the file's Location entities; a bad target becomes a problem of this file."""
    targets: list[str] = []
    for processed in result.entities:
        if not processed.is_location:
            continue
        spec = processed.entity.get("spec") or {}
        written = ([spec["target"]] if spec.get("target") else []) + list(spec.get("targets") or [])
        optional = spec.get("presence") == "optional"
        for index, target in enumerate(written):
            field_path = "spec.target" if index == 0 and spec.get("target") else "spec.targets"
            problem = _check_target(tree, result, parents, processed, target, optional, max_depth)
            if isinstance(problem, str):
                targets.append(problem)
            elif problem is not None:
                problem.field = field_path
                result.problems.append(problem)
    return targets


def _check_target(
    tree: SourceTree,
    result: FileResult,
    parents: dict[str, str | None],
    processed: ProcessedEntity,
    target: str,
    optional: bool,
    max_depth: int,
) -> str | FileProblem | None:
    def problem(message: str, hint: str, category: str = "location-read-failed") -> FileProblem:
        return FileProblem(
            category,
            message,
            "validation",
            file=result.path,
            document_index=processed.document_index,
            entity_ref=processed.ref,
            hint=hint,
        )

    try:
        resolved = tree.resolve(result.path, target)
    except SourceError as error:
        return problem(f"Location {processed.ref} target {error.message}", error.hint)
    if resolved == result.path:
        return problem(
            f'Location {processed.ref} points to itself ("{target}")',
            "remove this target; a Location names other files",
            "location-cycle",
        )
    chain = _ancestors(result.path, parents)
    if resolved in chain:
        loop = " → ".join([*reversed(chain), result.path, resolved])
        return problem(
            f"Location {processed.ref} leads back to {resolved}: {loop}",
            "remove the target that closes the loop",
            "location-cycle",
        )
    if result.depth + 1 > max_depth:
        return problem(
            f"Location {processed.ref} nests deeper than {max_depth} levels",
            "flatten the Location tree or raise PAVEDROAD_CATALOG__MAX_LOCATION_DEPTH",
        )
    if not tree.exists(resolved):
        if optional:
            return None
        return problem(
            f'Location {processed.ref} target "{target}" does not exist ({resolved})',
            "fix the path, or set spec.presence: optional if the file may be absent",
        )
    return resolved


def _ancestors(path: str, parents: dict[str, str | None]) -> list[str]:
    chain: list[str] = []
    current = parents.get(path)
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain
