"""The pipeline rendered for other CI systems: Argo Workflows and GitHub Actions, each run
reporting its status back to pavedroad (see :mod:`.callback` for the body)."""

from pavedroad.pipelines.exports.argo import to_argo
from pavedroad.pipelines.exports.callback import CALLBACK_PATH, REPORT_SCRIPT, callback_endpoint
from pavedroad.pipelines.exports.github_actions import to_github_actions

__all__ = ["CALLBACK_PATH", "REPORT_SCRIPT", "callback_endpoint", "to_argo", "to_github_actions"]
