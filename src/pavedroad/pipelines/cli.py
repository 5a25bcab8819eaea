"""``pavedroad pipeline ...``: validate, export, run, logs, list; ``pavedroad worker``.

Each part of the pipelines domain registers its commands on :data:`app` from its own module;
this module only creates the group and imports them.
"""

from __future__ import annotations

import typer

app = typer.Typer(help="CI/CD pipelines: validate, export, run, follow.", no_args_is_help=True)

from pavedroad.pipelines import (  # noqa: E402 - the commands register on app
    cli_definition,  # noqa: F401 - validate, schema, export
    cli_runs,  # noqa: F401 - run, logs, list, cancel
    cli_triggers,  # noqa: F401 - watch, unwatch, watched
)
