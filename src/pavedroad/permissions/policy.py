"""A policy: an ordered list of rules, the first matching one decides, a default at the end."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from pathlib import Path

from pavedroad.permissions.conditions import Condition

DEFAULT_POLICY_FILE = Path(__file__).with_name("default_policy.yaml")


class Effect(StrEnum):
    """What a policy rule, or the policy's default, decides."""

    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One rule of a policy: for these ``permissions``, ``if`` this holds, decide this.

    ``index`` counts from 1 in the file; ``line`` is where the rule starts there.
    """

    index: int
    name: str
    permissions: tuple[str, ...]
    decision: Effect
    condition: Condition | None = None
    description: str = ""
    line: int | None = None

    def covers(self, permission: str) -> bool:
        """Whether one of the rule's names or patterns (``catalog.*``, ``*``) is ``permission``."""
        return any(fnmatchcase(permission, pattern) for pattern in self.permissions)

    def heading(self) -> str:
        """``rule 3 'owners-edit-what-they-own' (allow catalog.entity.refresh, ...)``."""
        return (
            f"rule {self.index} '{self.name}' ({self.decision.value} {', '.join(self.permissions)})"
        )


@dataclass(frozen=True, slots=True)
class Policy:
    """A whole policy as loaded from ``source`` (a file path)."""

    rules: tuple[PolicyRule, ...]
    default: Effect
    source: str

    def rules_for(self, permission: str) -> list[PolicyRule]:
        return [rule for rule in self.rules if rule.covers(permission)]
