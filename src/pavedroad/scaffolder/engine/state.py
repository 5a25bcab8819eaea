"""One run's state: what expressions see at each point, the outputs so far, the masked log."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pavedroad.core.actors import Actor
from pavedroad.scaffolder.engine.environment import TemplateEnvironment
from pavedroad.scaffolder.engine.parameters import declared_fields, secret_form_fields
from pavedroad.scaffolder.engine.results import RunEvents
from pavedroad.scaffolder.engine.scope import Scope, child_path, scoped
from pavedroad.scaffolder.engine.sources import TemplateSource
from pavedroad.scaffolder.hooks import TemplateUser

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

MASK = "***"


class MaskedEvents:
    """Passes events on with every secret value replaced by ``***`` (or drops them)."""

    def __init__(self, events: RunEvents | None, secrets: Mapping[str, str]) -> None:
        self.events = events
        self.secret_values = sorted({str(v) for v in secrets.values() if v}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for value in self.secret_values:
            text = text.replace(value, MASK)
        return text

    def log(self, step_id: str | None, message: str) -> None:
        if self.events is not None:
            self.events.log(step_id, self.mask(message))

    def step(self, step_id: str, name: str, status: str) -> None:
        if self.events is not None:
            self.events.step(step_id, name, status)


@dataclass
class RunState:
    runtime: Runtime
    source: TemplateSource
    values: Mapping[str, Any]
    workspace: Path
    user: TemplateUser
    actor: Actor
    secrets: Mapping[str, str]
    dry_run: bool
    task_id: str
    events: MaskedEvents
    is_cancelled: Callable[[], bool]
    environment: TemplateEnvironment
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def step_ids(self) -> list[str]:
        steps = (self.source.entity.get("spec") or {}).get("steps") or []
        return [str(s.get("id")) for s in steps if isinstance(s, Mapping) and s.get("id")]

    def context(self, *, secrets: str = "none", each: Any = None) -> dict[str, Any]:
        """What expressions see. ``secrets``: ``real`` only for action inputs (as Backstage),
        ``masked`` for what is logged, ``none`` elsewhere."""
        entity = self.source.entity
        notes = {
            name: f"it is a secret field; read it as ${{{{ secrets.{name} }}}}"
            for name in secret_form_fields(entity)
        }
        known = declared_fields(entity)
        if known is not None:
            known |= set(self.values)
        parameters = Scope(scoped(self.values, "parameters"), "parameters", known, notes)
        steps = Scope(
            {
                step_id: scoped({"output": output}, child_path("steps", step_id))
                for step_id, output in self.outputs.items()
            },
            "steps",
            known=self.step_ids,
        )
        user: dict[str, Any] = {"ref": self.user.ref}
        if self.user.entity is not None:
            user["entity"] = dict(self.user.entity)
        shown = {"real": dict(self.secrets), "masked": dict.fromkeys(self.secrets, MASK)}
        context: dict[str, Any] = {
            "parameters": parameters,
            "steps": steps,
            "user": scoped(user, "user"),
            "secrets": scoped(shown.get(secrets, {}), "secrets"),
            "context": scoped({"task": {"id": self.task_id}}, "context"),
        }
        if each is not None:
            context["each"] = scoped(each, "each")
        return context
