"""The template engine: reading templates, checking their parameters, running their steps.

The task runner, the portal and the CLI use only what is listed in ``__all__``. Expressions are
Nunjucks-style ``${{ }}`` rendered by a sandboxed Jinja2 environment with Backstage's semantics
(see ``docs/templates.md``); actions come from ``runtime.scaffolder_actions``.
"""

from pavedroad.scaffolder.engine.checks import check_template
from pavedroad.scaffolder.engine.files import dry_run_files
from pavedroad.scaffolder.engine.parameters import (
    ParameterProblem,
    apply_defaults,
    parameter_steps,
    secret_fields,
    split_secrets,
    validate_parameters,
)
from pavedroad.scaffolder.engine.results import RunEvents, RunResult, StepResult
from pavedroad.scaffolder.engine.run import run_template
from pavedroad.scaffolder.engine.sources import (
    TemplateSource,
    load_template,
    template_from_directory,
)

__all__ = [
    "ParameterProblem",
    "RunEvents",
    "RunResult",
    "StepResult",
    "TemplateSource",
    "apply_defaults",
    "check_template",
    "dry_run_files",
    "load_template",
    "parameter_steps",
    "run_template",
    "secret_fields",
    "split_secrets",
    "template_from_directory",
    "validate_parameters",
]
