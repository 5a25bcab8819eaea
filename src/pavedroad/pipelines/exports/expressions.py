"""What the Argo and GitHub Actions condition dialects share: C-style operators on quoted
strings. Each subclass says how identifiers, strings, regular expressions and functions read."""

from __future__ import annotations

from pavedroad.pipelines.schemas import Step


class CStyleDialect:
    """``==``, ``!=``, ``&&``, ``||``, ``!`` and parentheses, for one step's condition."""

    system = ""

    def __init__(self, step: Step, warnings: list[str]) -> None:
        self.step = step
        self.warnings = warnings

    def compare(self, left: str, operator: str, right: str) -> str:
        return f"{left} {operator} {right}"

    def present(self, value: str) -> str:
        return f"{value} != ''"

    def both(self, left: str, right: str) -> str:
        return f"({left}) && ({right})"

    def either(self, left: str, right: str) -> str:
        return f"({left}) || ({right})"

    def negate(self, operand: str) -> str:
        return f"!({operand})"

    def changed(self) -> str:
        """``changed()`` cannot be known per step there: taken as true, as for unknown paths."""
        self.warnings.append(
            f"{self.step.id}: changed() is taken as true on {self.system} (every path changed)"
        )
        return "true"
