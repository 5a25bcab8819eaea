"""The scaffolder's extension point: actions. Built-in actions come through the same hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pavedroad.config import Settings
from pavedroad.core.actors import Actor
from pavedroad.core.plugins import hookspec


@dataclass(frozen=True, slots=True)
class TemplateUser:
    """Who runs the template, as expressions see it (``user.ref``, ``user.entity``)."""

    ref: str
    entity: Mapping[str, Any] | None = None


@dataclass(slots=True)
class ActionContext:
    """What an action gets for one step of one run.

    ``workspace`` is the run's working directory (every path an action writes is inside it);
    ``template_dir`` the folder the template was read from (``./skeleton`` is relative to it).
    ``log`` writes a line to the step's log; ``output`` sets one of the step's outputs
    (``steps.<id>.output.<name>``). In a dry run an action that supports it does everything
    but touch the outside world (no push, no registration).
    """

    task_id: str
    step_id: str
    input: dict[str, Any]
    workspace: Path
    template_dir: Path
    template_ref: str
    dry_run: bool
    user: TemplateUser
    actor: Actor
    secrets: Mapping[str, str]
    runtime: Any  # pavedroad.runtime.Runtime; Any keeps plugins free of its imports
    log: Callable[[str], None]
    output: Callable[[str, Any], None]
    is_cancelled: Callable[[], bool] = field(default=lambda: False)
    # The template being run, for actions that record it (publish writes .pavedroad/template.yaml):
    # its content hash (TemplateSource.version), the Template entity, and the run's parameters
    # (``ui:field: Secret`` fields are never among them; ``ui:widget: password`` ones are, so
    # mask those before writing values anywhere). Empty when an action runs outside a template.
    template_version: str = ""
    template_values: Mapping[str, Any] = field(default_factory=dict)
    template_entity: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class ScaffolderAction(Protocol):
    """One action a template step can name (``action: fetch:template``)."""

    @property
    def id(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def input_schema(self) -> Mapping[str, Any]:
        """A JSON Schema the step's rendered ``input`` is validated against before it runs."""
        ...

    @property
    def output_schema(self) -> Mapping[str, Any]: ...

    @property
    def supports_dry_run(self) -> bool:
        """False: a dry run skips the step (as Backstage does) and says so in the log."""
        ...

    def handler(self, context: ActionContext) -> None: ...


@hookspec
def pavedroad_scaffolder_actions(settings: Settings) -> Sequence[ScaffolderAction]:  # type: ignore[empty-body]
    """Scaffolder actions this plugin contributes."""
