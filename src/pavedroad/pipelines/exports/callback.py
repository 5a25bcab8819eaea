"""How an exported run reports back to pavedroad: the body it posts and the script that posts it.

``POST {base_url}/api/pipelines/v1/runs/external`` with ``Authorization: Bearer <token>`` (a
service token allowed ``pipeline.run.report``) and this JSON body::

    {"system": "argo" | "github-actions", "repository": "https://git.example.com/team/app.git",
     "commit": "<sha>", "branch": "main", "external_id": "<the run's id in that system>",
     "status": "succeeded" | "failed" | "cancelled" | "running", "url": "<the run's page> | null",
     "steps": [{"id": "<stage>.<step>", "status": "succeeded" | "failed" | "skipped" | ...,
                "started_at": null, "finished_at": "2026-12-06T20:00:00Z"}]}

The same small Python script (standard library only) builds and posts it from a GitHub Actions
job and from an Argo exit handler; what differs comes in through its environment.
"""

from __future__ import annotations

import json

CALLBACK_PATH = "/api/pipelines/v1/runs/external"

REPORT_SCRIPT = """\
import json, os, urllib.request
env = os.environ
ids = json.loads(env["STEP_IDS"])  # task or job name -> "<stage>.<step>"
states = {"success": "succeeded", "failure": "failed", "cancelled": "cancelled",
          "skipped": "skipped", "Succeeded": "succeeded", "Failed": "failed",
          "Error": "failed", "Skipped": "skipped", "Omitted": "skipped"}
steps = []
if env["SYSTEM"] == "github-actions":
    for job, need in json.loads(env.get("RESULTS") or "{}").items():
        if job in ids:
            steps.append({"id": ids[job], "status": states.get(need.get("result"), "failed")})
    found = {step["status"] for step in steps}
    status = "failed" if "failed" in found else "cancelled" if "cancelled" in found else "succeeded"
else:  # argo: the exit handler sees the workflow's status and its failed nodes
    results = env.get("RESULTS") or "[]"
    for node in json.loads(results if results.startswith("[") else "[]") or []:
        name = node.get("displayName") or node.get("templateName")
        if name in ids:
            steps.append({"id": ids[name], "status": "failed",
                          "finished_at": node.get("finishedAt") or None})
    status = {"Succeeded": "succeeded", "Failed": "failed", "Error": "failed"}.get(
        env.get("STATUS", ""), "cancelled")
body = {"system": env["SYSTEM"], "repository": env["REPOSITORY"], "commit": env["COMMIT"],
        "branch": env["BRANCH"], "external_id": env["EXTERNAL_ID"], "status": status,
        "url": env.get("RUN_URL") or None, "steps": steps}
request = urllib.request.Request(
    env["CALLBACK_URL"], data=json.dumps(body).encode(), method="POST",
    headers={"Content-Type": "application/json",
             "Authorization": "Bearer " + env["PAVEDROAD_TOKEN"]})
with urllib.request.urlopen(request, timeout=30) as response:
    print("reported", status, "to pavedroad:", response.status)
"""


def callback_endpoint(url: str) -> str:
    """The endpoint of a base URL (``https://pavedroad.example.com``) or of the endpoint itself."""
    url = url.rstrip("/")
    return url if url.endswith(CALLBACK_PATH) else url + CALLBACK_PATH


def step_ids_json(names: dict[str, str]) -> str:
    return json.dumps(names, separators=(",", ":"), sort_keys=True)
