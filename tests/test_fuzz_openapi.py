"""The API fuzzed from its own OpenAPI document (schemathesis): whatever the
generated request, no answer is a 5xx, the status is one the document lists,
the content type and the body are the documented ones.

Runs in process (WSGI) against a populated practice with an admin token.
Dates and times get boundary values (tests/fuzz_strategies.py): ``format:
date`` and ``date-time`` through schemathesis' format registry, HH:MM fields
and ids swapped into the generated cases, so requests reach past validation.

Everyday runs take a few examples per operation; ``FUZZ_EXAMPLES=150`` (the
.ci/run line) makes the bigger run. The either/or rules the document cannot
express are driven by hypothesis directly (test_either_or_*).
"""
from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi import formats as schemathesis_formats

import fuzz_strategies as fz

pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
FUZZ_SETTINGS = dict(deadline=None, derandomize=not os.environ.get("FUZZ_EXAMPLES"),
                     database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PRACTICE_PLUGINS": "ipt"}


@pytest.fixture
def boundary_formats():
    """Boundary dates for ``format: date`` / ``date-time``, for this test only."""
    saved = {name: schemathesis_formats.STRING_FORMATS.get(name) for name in ("date", "date-time")}
    schemathesis.openapi.format("date", fz.date_format())
    schemathesis.openapi.format("date-time", fz.date_time_format())
    yield
    for name, strategy in saved.items():
        if strategy is None:
            schemathesis_formats.unregister_string_format(name)
        else:
            schemathesis.openapi.format(name, strategy)


@pytest.fixture
def practice(app, admin_api, make_clinician, make_room, make_client):
    clinician = make_clinician(modalities=["general", "ipt"])
    other = make_clinician(modalities=["general"])
    room = make_room(capacity=4)
    clients = [make_client() for _ in range(3)]
    r = admin_api.post("/api/courses", json={
        "clinician_id": clinician, "room_id": room, "client_ids": [clients[0]], "modality": "ipt",
        "first_date": "2030-03-04", "start_time": "10:00", "session_count": 12})
    assert r.status_code == 201, r.json
    return {"token": admin_api.token, "course_id": [r.json["id"]], "clinician_id": [clinician, other],
            "room_id": [room], "client_id": clients, "client_ids": [clients[:1], clients[1:]],
            "number": [1, 2, 12, 13]}


def _swap_ids(data, ids, container):
    for key in list(container or {}):
        if key in ids and data.draw(st.booleans(), label=f"known {key}"):
            container[key] = data.draw(st.sampled_from(ids[key]), label=key)


def test_every_operation_fuzzed_with_boundaries(app, practice, boundary_formats):
    fuzz_schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {practice['token']}"}
    checks = fz.fuzz_checks()
    per_operation: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    # Revoking the caller's token and resetting a password (the fuzz admin's
    # own, if the generated id is theirs) cut this token off, as they should:
    # those operations go last, so every other one is fuzzed signed in.
    operations.sort(key=lambda op: op.path.startswith(("/api/tokens/current", "/api/users")))
    for operation in operations:
        raw = operation.definition.raw

        @given(case=operation.as_strategy(), data=st.data())
        @settings(max_examples=EXAMPLES, **FUZZ_SETTINGS)
        def check(case, data):
            _swap_ids(data, practice, case.path_parameters)
            _swap_ids(data, practice, case.query)
            if isinstance(case.body, dict):
                _swap_ids(data, practice, case.body)
                fz.swap_boundaries(data, case.body)
            fz.swap_boundaries(data, case.query)
            response = case.call(headers=headers)
            per_operation[operation.label] += 1
            statuses[response.status_code] += 1
            case.validate_response(response, checks=checks, headers=headers)
            fz.assert_documented_status(raw, response.status_code)
            if response.status_code >= 400:
                assert {"error", "message"} <= set(response.json()), response.text[:300]

        check()
    assert len(per_operation) >= 25  # every documented operation was fuzzed
    # Not all refused: the generated requests reach the views and succeed too.
    assert sum(n for s, n in statuses.items() if s < 300) > 20, statuses
    print(f"\nfuzzed {len(per_operation)} operations, {sum(per_operation.values())} requests, "
          f"statuses {dict(sorted(statuses.items()))}")
    for label, n in sorted(per_operation.items()):
        print(f"  {n:5d}  {label}")


# The either/or rules the OpenAPI document cannot express (it lists every
# field as optional): hypothesis draws which of the fields are present.

IN_RANGE = st.dates(fz.SCHEDULING_MIN, fz.SCHEDULING_MAX).map(fz.iso)
WORKING_TIME = st.sampled_from(["09:00", "10:30", "12:00", "16:00"])


@pytest.fixture
def either_or(app, practice):
    from conftest import Api
    return Api(app.test_client(), practice["token"]), practice


def test_either_or_reschedule_starts_at_or_date_and_start_time(either_or):
    api, practice = either_or
    url = f"/api/courses/{practice['course_id'][0]}/sessions/2/reschedule"

    @given(present=st.sets(st.sampled_from(["starts_at", "date", "start_time"])),
           day=IN_RANGE, at=WORKING_TIME, offset=st.sampled_from(["Z", "+01:00", "-05:00"]),
           dry_run=st.booleans())
    @settings(max_examples=max(EXAMPLES * 2, 24), **FUZZ_SETTINGS)
    def check(present, day, at, offset, dry_run):
        values = {"starts_at": f"{day}T{at}:00{offset}", "date": day, "start_time": at}
        body = {k: values[k] for k in present}
        # A real move only when the form is wrong: a refused request changes nothing.
        body["dry_run"] = dry_run or present in ({"starts_at"}, {"date", "start_time"})
        before = api.get(f"/api/courses/{practice['course_id'][0]}").json
        r = api.post(url, json=body)
        assert r.status_code < 500, (body, r.text[:300])
        valid = present in ({"starts_at"}, {"date", "start_time"})
        if valid:
            assert r.status_code != 422 or "starts_at" not in r.json.get("violations", [{}])[0].get(
                "field", "") and "either" not in r.json["message"].lower(), (body, r.json)
        else:
            assert r.status_code == 422, (body, r.status_code, r.json)
            assert api.get(f"/api/courses/{practice['course_id'][0]}").json == before

    check()


def test_either_or_availability_clinician_id_or_modality(either_or):
    api, practice = either_or

    @given(present=st.sets(st.sampled_from(["clinician_id", "modality"])), day=IN_RANGE,
           clinician=st.sampled_from(practice["clinician_id"]),
           modality=st.sampled_from(["general", "ipt", "nonesuch"]),
           earliest=st.one_of(st.none(), fz.clock_times()), latest=st.one_of(st.none(), fz.clock_times()))
    @settings(max_examples=max(EXAMPLES * 2, 24), **FUZZ_SETTINGS)
    def check(present, day, clinician, modality, earliest, latest):
        query = {"from": day, "weeks": 2, "duration_minutes": 50}
        query.update({k: v for k, v in {"clinician_id": clinician, "modality": modality}.items()
                      if k in present})
        query.update({k: v for k, v in {"earliest": earliest, "latest": latest}.items()
                      if v is not None})
        r = api.get("/api/availability", query_string=query)
        assert r.status_code < 500, (query, r.text[:300])
        assert r.headers["Content-Type"].startswith("application/json")
        if len(present) != 1:
            assert r.status_code == 422, (query, r.status_code)
        elif r.status_code == 422:
            # Refused only for a bad time, never for the who.
            assert "either" not in r.json["message"].lower(), (query, r.json)
        else:
            assert r.status_code == 200, (query, r.status_code, r.json)

    check()
