"""Secret references of pipeline steps, until the secrets capability exists: from the
environment of the worker that runs the step (``pypi-token`` → ``PAVEDROAD_SECRET_PYPI_TOKEN``).

This is the one place outside the settings that reads the process environment, on purpose:
an operator hands a worker its secrets the way CI systems' runners are handed theirs. Every step
that uses one says so in its log, so nobody takes it for a managed secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pavedroad.config import Settings
from pavedroad.core.plugins import hookimpl
from pavedroad.pipelines.hooks import SecretsProvider

PREFIX = "PAVEDROAD_SECRET_"


def variable_for(reference: str) -> str:
    """The worker's environment variable a reference reads: upper case, ``-``/``.`` → ``_``."""
    return PREFIX + re.sub(r"[^A-Za-z0-9]", "_", reference).upper()


@dataclass(frozen=True, slots=True)
class EnvironmentSecrets:
    """Resolves ``reference`` from the worker's ``PAVEDROAD_SECRET_<REFERENCE>``."""

    name: str = "environment"
    warning: str = (
        "warning: secrets come from the environment of the worker "
        "(PAVEDROAD_SECRET_*) until the secrets capability exists"
    )

    def resolve(self, reference: str, *, component_ref: str | None) -> str | None:
        value = os.environ.get(variable_for(reference))
        return value if value else None

    def hint(self, reference: str) -> str:
        return f"set {variable_for(reference)} in the environment of the pavedroad worker"


class EnvironmentSecretsPlugin:
    @hookimpl
    def pavedroad_pipeline_secrets(self, settings: Settings) -> Sequence[SecretsProvider]:
        return [EnvironmentSecrets()]
