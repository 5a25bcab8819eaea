"""Telling people a run failed: a Slack-compatible JSON message (``text`` plus ``blocks``) posted
to each of ``pipelines.notify_urls`` with the component, repository, branch, commit, the failing
step, its last log lines (stored masked) and a link to the run page.

Sending happens on a thread of its own with a short timeout per URL: a slow or broken receiver
never holds up or fails a run; what went wrong is logged.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select

from pavedroad.pipelines.models import PipelineLogChunk, PipelineRun, PipelineStep

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)

NOTIFIED_STATUSES = ("failed", "rejected")
TIMEOUT_SECONDS = 5.0
LOG_LINES = 20
LOG_CHUNKS = 40  # the last chunks read to find the last lines
MAX_LOG_CHARACTERS = 2500  # Slack cuts a text block at 3000


@dataclass(frozen=True, slots=True)
class Notice:
    url: str
    status_code: int | None
    error: str | None = None


def notify_run_finished(runtime: Runtime, run_id: str) -> threading.Thread | None:
    """Send the failure notices of run ``run_id`` in the background, if it failed (or was
    rejected) and receivers are configured; the thread, or None when there is nothing to send."""
    if not runtime.settings.pipelines.notify_urls:
        return None
    thread = threading.Thread(
        target=send_failure_notices,
        args=(runtime, run_id),
        name=f"pipeline-notify-{run_id[:8]}",
        daemon=True,
    )
    thread.start()
    return thread


def send_failure_notices(runtime: Runtime, run_id: str) -> list[Notice]:
    """Post the message to every configured URL now; never raises."""
    try:
        message = failure_message(runtime, run_id)
    except Exception:
        log.exception("could not build a pipeline failure notice", extra={"run": run_id})
        return []
    if message is None:
        return []
    notices = []
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        for url in runtime.settings.pipelines.notify_urls:
            notices.append(_post(client, url, message, run_id))
    return notices


def _post(client: httpx.Client, url: str, message: dict[str, Any], run_id: str) -> Notice:
    try:
        response = client.post(url, json=message)
    except httpx.HTTPError as error:
        log.warning(
            "a pipeline failure notice was not delivered",
            extra={"run": run_id, "receiver": _safe(url), "error": type(error).__name__},
        )
        return Notice(url, None, type(error).__name__)
    if response.status_code >= 400:
        log.warning(
            "a pipeline failure notice was refused",
            extra={"run": run_id, "receiver": _safe(url), "status": response.status_code},
        )
        return Notice(url, response.status_code, f"HTTP {response.status_code}")
    return Notice(url, response.status_code)


def _safe(url: str) -> str:
    """The receiver without its path: a Slack webhook's path is its secret."""
    return httpx.URL(url).copy_with(path="/", query=None).__str__()


def failure_message(runtime: Runtime, run_id: str) -> dict[str, Any] | None:
    """The message of a failed or rejected run; None for any other run."""
    with runtime.db.read_session() as session:
        run = session.get(PipelineRun, run_id)
        if run is None or run.status not in NOTIFIED_STATUSES:
            return None
        failing = session.scalar(
            select(PipelineStep)
            .where(PipelineStep.run_id == run_id, PipelineStep.status == "failed")
            .order_by(PipelineStep.position)
            .limit(1)
        )
        tail = _last_lines(session, failing.id) if failing is not None else ""
    link = f"{runtime.settings.resolved_base_url.rstrip('/')}/pipelines/runs/{run.id}"
    what = run.component_ref or run.repository
    verb = "was rejected" if run.status == "rejected" else "failed"
    headline = f"Pipeline run #{run.number} of {what} {verb} on {run.branch} ({run.commit[:12]})"
    if failing is not None:
        headline += f": step {failing.step_id}"
    facts = [
        ("Component", run.component_ref or "(none)"),
        ("Repository", run.repository),
        ("Branch", run.branch),
        ("Commit", run.commit[:12]),
        ("Failing step", failing.step_id if failing is not None else "(none)"),
        ("Trigger", run.trigger),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{headline}*\n<{link}|Open run>"}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in facts],
        },
    ]
    reason = failing.summary if failing is not None and failing.summary else run.error
    if reason:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": reason[:2900]}})
    if run.status == "rejected" and run.problems:
        listed = "\n".join(f"• {_problem(p)}" for p in run.problems[:10])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": listed[:2900]}})
    if tail:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"```{tail}```"}})
    return {"text": f"{headline} — {link}", "blocks": blocks}


def _last_lines(session: Any, step_pk: int) -> str:
    chunks = session.scalars(
        select(PipelineLogChunk.text)
        .where(PipelineLogChunk.step_id == step_pk)
        .order_by(PipelineLogChunk.id.desc())
        .limit(LOG_CHUNKS)
    ).all()
    lines = "".join(reversed(chunks)).rstrip("\n").splitlines()[-LOG_LINES:]
    return "\n".join(lines)[-MAX_LOG_CHARACTERS:]


def _problem(problem: Any) -> str:
    if isinstance(problem, dict):
        where = f"line {problem['line']}: " if problem.get("line") else ""
        return f"{where}{problem.get('message', problem)}"
    return str(problem)
