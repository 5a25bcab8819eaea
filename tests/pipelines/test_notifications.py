"""Failure notices: a failed run posts Slack-compatible JSON (component, repository, branch,
commit, failing step, its last log lines masked, a link to the run) to every configured
receiver; a receiver that is down or slow changes nothing about the run."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pavedroad.config import Settings
from pavedroad.pipelines.notifications import (
    failure_message,
    notify_run_finished,
    send_failure_notices,
)
from pavedroad.runtime import Runtime, build_runtime
from tests.pipelines.engine_support import (
    make_repository,
    pipeline_file,
    run_now,
    start,
    wait_for,
)
from tests.pipelines.trigger_support import register_component

FAILING = pipeline_file(
    "      - name: unit\n"
    "        run: for i in $(seq 1 30); do echo line $i; done; echo token=$API_TOKEN; exit 4\n"
    "        secrets: {API_TOKEN: api-token}\n",
    stage="test",
)


class Receiver:
    """A webhook receiver on 127.0.0.1 that keeps what it is sent."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                time.sleep(delay)
                length = int(self.headers["content-length"])
                outer.received.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/xyz"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def notifying(settings: Settings, runtime: Runtime, *urls: str) -> Runtime:
    pipelines = settings.pipelines.model_copy(update={"notify_urls": list(urls)})
    changed = settings.model_copy(
        update={"pipelines": pipelines, "base_url": "https://paved.example"}
    )
    return build_runtime(changed, db=runtime.db)


@pytest.fixture
def failed_run(
    settings: Settings, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("PAVEDROAD_SECRET_API_TOKEN", "s3cr3t-value-xyz")
    url = make_repository(tmp_path, FAILING, name="quotes")
    register_component(runtime, tmp_path, "quotes", url)
    run_id = start(runtime, url)
    assert run_now(runtime, run_id) == "failed"
    return run_id


def test_a_failed_run_posts_its_failing_step_and_last_log_lines(
    settings: Settings, runtime: Runtime, receiver: Receiver, failed_run: str
) -> None:
    notified = notifying(settings, runtime, receiver.url)

    (notice,) = send_failure_notices(notified, failed_run)

    assert notice.status_code == 200 and notice.error is None
    (message,) = receiver.received
    assert message["text"].startswith("Pipeline run #1 of component:default/quotes failed on main")
    assert f"https://paved.example/pipelines/runs/{failed_run}" in message["text"]
    blocks = json.dumps(message["blocks"])
    assert "test.unit" in blocks and "line 30" in blocks and "line 5\\n" not in blocks
    assert "s3cr3t-value-xyz" not in json.dumps(message) and "token=***" in blocks
    fields = {
        f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in message["blocks"][1]["fields"]
    }
    assert fields["*Repository*"].startswith("file://") and fields["*Failing step*"] == "test.unit"


def test_a_run_that_did_not_fail_sends_nothing(
    settings: Settings, runtime: Runtime, receiver: Receiver, tmp_path: Path
) -> None:
    url = make_repository(tmp_path, pipeline_file("      - name: ok\n        run: echo ok\n"))
    run_id = start(runtime, url)
    assert run_now(runtime, run_id) == "succeeded"

    assert send_failure_notices(notifying(settings, runtime, receiver.url), run_id) == []
    assert failure_message(runtime, run_id) is None and receiver.received == []


def test_receivers_that_are_down_or_refuse_are_logged_and_the_others_still_told(
    settings: Settings,
    runtime: Runtime,
    receiver: Receiver,
    failed_run: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    refusing = Receiver(status=500)
    try:
        notified = notifying(
            settings, runtime, "http://127.0.0.1:9/nothing", refusing.url, receiver.url
        )
        notices = send_failure_notices(notified, failed_run)
    finally:
        refusing.close()

    assert [n.error for n in notices] == ["ConnectError", "HTTP 500", None]
    assert len(receiver.received) == 1
    assert "T000/B000" not in caplog.text  # a Slack URL's path is its secret


def test_sending_happens_in_the_background(
    settings: Settings, runtime: Runtime, failed_run: str
) -> None:
    slow = Receiver(delay=2.0)
    try:
        notified = notifying(settings, runtime, slow.url)
        began = time.monotonic()
        thread = notify_run_finished(notified, failed_run)
        assert thread is not None and time.monotonic() - began < 1.0
        thread.join(10)
        assert len(slow.received) == 1
    finally:
        slow.close()
    assert notify_run_finished(runtime, failed_run) is None  # no receivers configured


def test_the_engine_tells_the_receivers_when_a_run_fails(
    settings: Settings, runtime: Runtime, receiver: Receiver, tmp_path: Path
) -> None:
    notified = notifying(settings, runtime, receiver.url)
    url = make_repository(tmp_path, FAILING, name="engine")
    run_id = start(notified, url)

    assert run_now(notified, run_id) == "failed"

    wait_for(lambda: len(receiver.received) == 1, timeout=10)
    assert run_id in receiver.received[0]["text"]


def test_a_rejected_run_sends_the_file_s_problems(
    settings: Settings, runtime: Runtime, receiver: Receiver, tmp_path: Path
) -> None:
    notified = notifying(settings, runtime, receiver.url)
    url = make_repository(tmp_path, {".pavedroad/pipeline.yaml": "stages: [oops\n"}, name="bad")

    start(notified, url)

    wait_for(lambda: len(receiver.received) == 1, timeout=10)
    (message,) = receiver.received
    assert "was rejected" in message["text"] and "line" in json.dumps(message["blocks"])
