"""The Create pages: gallery, the form page by page with inline validation, review, a run
followed live, dry runs and the history of runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.scaffolder.conftest import values, wait_for

HTML = {"accept": "text/html"}
FORM = "/create/templates/default/tiny-service"


def carried(page: str) -> dict[str, object]:
    found = re.search(r'name="values_json" value="([^"]*)"', page)
    assert found
    return json.loads(found.group(1).replace("&#34;", '"').replace("&quot;", '"'))


def test_the_gallery_lists_templates_and_filters_by_tag(portal: TestClient) -> None:
    page = portal.get("/create", headers=HTML).text
    assert "Tiny service" in page and f'href="{FORM}"' in page
    assert "Tiny service" in portal.get("/create?tag=tiny", headers=HTML).text
    assert "No templates tagged nothing" in portal.get("/create?tag=nothing", headers=HTML).text


def test_the_form_shows_the_first_page_with_its_pickers(portal: TestClient) -> None:
    page = portal.get(FORM, headers=HTML).text
    assert 'id="param-name"' in page and 'pattern="^[a-z][a-z0-9-]*$"' in page
    assert 'list="param-owner-choices"' in page
    assert '<option value="group:default/team-a">' in page  # from the catalog
    assert 'aria-current="step">About it' in page


def test_next_with_a_bad_value_stays_on_the_page_with_the_problem_at_the_field(
    portal: TestClient,
) -> None:
    response = portal.post(FORM, data={"step": "0", "action": "next", "name": "Bad Name"})
    assert response.status_code == 400
    assert re.search(r'id="param-name-error" role="alert">[^<]+<', response.text)
    assert re.search(r'id="param-owner-error" role="alert">[^<]+<', response.text)  # required


def test_inline_checking_shows_problems_only_for_what_was_typed(portal: TestClient) -> None:
    response = portal.post(
        FORM,
        data={"step": "0", "action": "check", "name": "Bad Name"},
        headers={**HTML, "hx-request": "true"},
    )
    assert "<html" not in response.text and "<input" not in response.text  # inputs untouched
    name_error = re.search(r'id="param-name-error"[^>]*>([^<]*)<', response.text)
    owner_error = re.search(r'id="param-owner-error"[^>]*>([^<]*)<', response.text)
    assert name_error and name_error.group(1).strip()
    assert owner_error and not owner_error.group(1).strip()


def test_the_pages_carry_values_to_review_and_create_starts_a_run(
    portal: TestClient, tmp_path: Path
) -> None:
    given = values(tmp_path)
    first = portal.post(
        FORM,
        data={"step": "0", "action": "next", "name": given["name"], "owner": given["owner"]},
    )
    assert first.status_code == 200 and 'aria-current="step">Where' in first.text
    second = portal.post(
        FORM,
        data={
            "step": "1",
            "action": "next",
            "values_json": json.dumps(carried(first.text)),
            "repoUrl": given["repoUrl"],
        },
    )
    assert "Review" in second.text and "ledger" in second.text
    created = portal.post(
        FORM,
        data={"step": "2", "action": "create", "values_json": json.dumps(carried(second.text))},
        follow_redirects=False,
    )
    assert created.status_code == 303
    task_id = created.headers["location"].rsplit("/", 1)[-1]
    assert wait_for(portal, task_id)["status"] == "completed"
    page = portal.get(f"/create/tasks/{task_id}", headers=HTML).text
    assert "Completed" in page and 'href="/catalog/default/component/ledger"' in page
    assert re.search(r"in \d+\.\d s</span>", page)  # how long the run took
    assert re.search(r"Publish <span class=\"muted\">\d+\.\d s</span>", page)
    assert "hx-trigger" not in page.split('id="run-live"')[1].split(">")[0]  # no more polling


def test_a_dry_run_from_the_review_shows_the_files(portal: TestClient, tmp_path: Path) -> None:
    response = portal.post(
        FORM, data={"step": "2", "action": "dry-run", "values_json": json.dumps(values(tmp_path))}
    )
    assert response.status_code == 200
    assert "nothing was published or registered" in response.text
    assert "catalog-info.yaml" in response.text
    assert not (tmp_path / "data" / "repositories" / "ledger.git").exists()


def test_a_running_task_page_polls_until_it_finishes(portal: TestClient, tmp_path: Path) -> None:
    response = portal.post(
        "/api/scaffolder/v2/tasks",
        json={"templateRef": "template:default/tiny-service", "values": values(tmp_path, pause=2)},
    )
    task_id = response.json()["id"]
    page = portal.get(f"/create/tasks/{task_id}", headers=HTML).text
    assert 'hx-trigger="load delay:700ms"' in page and "Cancel the run" in page
    wait_for(portal, task_id)


def test_the_history_lists_your_runs(portal: TestClient, tmp_path: Path) -> None:
    response = portal.post(
        "/api/scaffolder/v2/tasks",
        json={"templateRef": "template:default/tiny-service", "values": values(tmp_path)},
    )
    wait_for(portal, response.json()["id"])
    page = portal.get("/create/tasks", headers=HTML).text
    assert "tiny-service" in page and "completed" in page


def test_the_repository_field_suggests_a_new_repository_named_after_the_service(
    portal: TestClient, tmp_path: Path
) -> None:
    page = portal.post(
        FORM,
        data={"step": "0", "action": "next", "name": "ledger", "owner": "group:default/team-a"},
    ).text
    root = (tmp_path / "data" / "repositories").resolve()
    assert f'value="file://{root}/ledger.git"' in page
