"""docs/scaffolder-actions.md is generated from the actions; it must never go stale.

Regenerate it with:
    .venv/bin/python -c "from pavedroad.scaffolder.actions import builtin_actions, \\
    reference_markdown; print(reference_markdown(builtin_actions()), end='')" \\
    > docs/scaffolder-actions.md
"""

from __future__ import annotations

from pathlib import Path

from jsonschema import Draft7Validator

from pavedroad.runtime import Runtime
from pavedroad.scaffolder.actions import builtin_actions, reference_markdown
from pavedroad.scaffolder.hooks import ScaffolderAction
from tests.scaffolder import test_engine_support as support

offline_runtime = support.offline_runtime  # the fixture, used by name

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "scaffolder-actions.md"


def test_the_committed_reference_is_what_the_actions_say() -> None:
    assert REFERENCE.read_text() == reference_markdown(builtin_actions())


def test_every_action_honours_the_protocol_with_valid_schemas(offline_runtime: Runtime) -> None:
    for action in offline_runtime.scaffolder_actions.values():
        assert isinstance(action, ScaffolderAction)
        assert action.description
        Draft7Validator.check_schema(dict(action.input_schema))
        Draft7Validator.check_schema(dict(action.output_schema))
        assert f"## `{action.id}`" in reference_markdown([action])
