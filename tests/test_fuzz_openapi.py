"""The API fuzzed from its own OpenAPI document (schemathesis): whatever the
generated request, no answer is a 5xx, and every error is our JSON shape.

Runs in process (WSGI) against a populated practice with an admin token, a
bounded number of examples per operation so the suite stays quick.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.slow
STATUSES: list[int] = []


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_PLUGINS": "ipt"}


@pytest.fixture
def fuzz_schema(app, admin_api, make_clinician, make_room, make_client):
    clinician = make_clinician(modalities=["general", "ipt"])
    room = make_room(capacity=4)
    client = make_client()
    r = admin_api.post("/api/courses", json={
        "clinician_id": clinician, "room_id": room, "client_ids": [client], "modality": "ipt",
        "first_date": "2020-03-02", "start_time": "10:00", "session_count": 12})
    assert r.status_code == 201, r.json
    app.config["FUZZ_TOKEN"] = admin_api.token
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def test_no_operation_answers_5xx(app, fuzz_schema):
    # schemathesis' own pytest integration does not run under this pytest, so
    # each operation's strategy drives a plain hypothesis test.
    headers = {"Authorization": f"Bearer {app.config['FUZZ_TOKEN']}"}
    seen = 0
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    # Revoking the caller's token and resetting a password (the fuzz admin's
    # own, if the generated id is theirs) cut this token off, as they should:
    # those operations go last, so every other one is fuzzed signed in.
    operations.sort(key=lambda op: op.path.startswith(("/api/tokens/current", "/api/users")))
    for operation in operations:
        seen += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(headers=headers)
            STATUSES.append(response.status_code)
            assert response.status_code < 500, (case.method, case.path, response.text[:500])
            if response.status_code >= 400 and response.headers.get(
                    "Content-Type", "").startswith("application/json"):
                body = response.json()
                assert {"error", "message"} <= set(body), body

        check()
    assert seen >= 25  # every documented operation was fuzzed
    # Not all refused: the generated requests reach the views and succeed too.
    assert sum(1 for s in STATUSES if s < 300) > 20, sorted(set(STATUSES))
    print(f"fuzzed {seen} operations, {len(STATUSES)} requests: "
          f"{ {s: STATUSES.count(s) for s in sorted(set(STATUSES))} }")
