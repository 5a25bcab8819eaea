"""The portal as a developer of the demo organisation sees it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pavedroad import demo
from pavedroad.app import create_app
from pavedroad.config import Settings
from pavedroad.runtime import Runtime, build_runtime


@pytest.fixture
def portal(settings: Settings, runtime: Runtime) -> Iterator[TestClient]:
    """The app acting as Esi Mensah (team-checkout), on the demo organisation."""
    with runtime.db.session() as session:
        demo.load(session, runtime.catalog)
    auth = settings.auth.model_copy(update={"demo_user_ref": "user:default/esi.mensah"})
    acting = build_runtime(settings.model_copy(update={"auth": auth}), db=runtime.db)
    with TestClient(create_app(acting, run_jobs=False)) as client:
        yield client
