"""What pipelines ask of the permission policy."""

from __future__ import annotations

from pavedroad.permissions import Permission, declare

READ_RUNS = "pipeline.run.read"
START_RUN = "pipeline.run.create"
CANCEL_RUN = "pipeline.run.cancel"
REPORT_RUN = "pipeline.run.report"  # an exported run (Argo, GitHub Actions) reporting back

declare(
    Permission(READ_RUNS, "See pipeline runs: their steps, logs, test results and artifacts."),
    Permission(START_RUN, "Start a pipeline run by hand (a branch or a commit)."),
    Permission(CANCEL_RUN, "Cancel a pipeline run."),
    Permission(REPORT_RUN, "Report the status of a run executed elsewhere (service tokens)."),
)
