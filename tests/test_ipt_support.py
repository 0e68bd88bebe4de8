"""Shared set-up for the IPT tests (no tests here): an IPT-enabled app, a
small practice, and helpers that book and run courses over the HTTP API.

Sessions are booked in the real past (the booking answers with a warning)
so attendance can be recorded; "today" for flags is ``PRACTICE_TODAY``.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

IPT_MODALITIES = ("general", "ipt", "ipt-a", "ipt-b", "ipt-g", "ipt-m")


def monday_weeks_ago(weeks: int) -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks)


class Practice:
    """One clinician (with their API client), a room, clients, front desk, admin."""

    def __init__(self, app, api_as, make_clinician, make_room, make_client):
        self.app = app
        self.clinician_id = make_clinician(modalities=IPT_MODALITIES)
        self.room_id = make_room(capacity=8)
        self.client_id = make_client()
        self.make_client = make_client
        self.desk = api_as("front_desk")
        self.admin = api_as("admin")
        self.doctor = api_as("clinician", clinician_id=self.clinician_id)
        self.other_doctor = api_as("clinician", clinician_id=make_clinician(
            modalities=IPT_MODALITIES))

    def today(self, day: date) -> None:
        self.app.config["PRACTICE_TODAY"] = day

    def book(self, modality: str = "ipt", *, expect: int = 201, **body):
        body = {"client_ids": [self.client_id], "clinician_id": self.clinician_id,
                "room_id": self.room_id, "modality": modality,
                "first_date": monday_weeks_ago(30).isoformat(), "start_time": "10:00",
                **body}
        for key in ("first_date",):
            if isinstance(body[key], date):
                body[key] = body[key].isoformat()
        r = self.desk.post("/api/courses", json=body)
        assert r.status_code == expect, r.json
        return r.json

    def attend(self, course_id: int, *numbers: int, status: str = "attended", **extra):
        r = None
        for n in numbers:
            r = self.doctor.post(f"/api/courses/{course_id}/sessions/{n}/attendance",
                                 json={"status": status, **extra})
            assert r.status_code == 200, r.json
        return r.json

    def course(self, course_id: int, api=None) -> dict:
        r = (api or self.doctor).get(f"/api/courses/{course_id}")
        assert r.status_code == 200, r.json
        return r.json

    def flags(self, course_id: int, api=None) -> dict[str, dict]:
        """Open flags of the course by code, refreshed as ``GET /api/flags`` does."""
        r = (api or self.doctor).get(f"/api/flags?course_id={course_id}&limit=500")
        assert r.status_code == 200, r.json
        return {f["code"]: f for f in r.json["items"]}


@pytest.fixture
def ipt_config(app_config):
    return {**app_config, "PRACTICE_PLUGINS": "ipt"}


@pytest.fixture
def practice(app, api_as, make_clinician, make_room, make_client):
    return Practice(app, api_as, make_clinician, make_room, make_client)


def phq9(total: int, item9: int = 0) -> list[int]:
    """Nine PHQ-9 item scores summing to ``total`` with item 9 = ``item9``."""
    rest, items = total - item9, []
    assert 0 <= rest <= 24 and 0 <= item9 <= 3
    for _ in range(8):
        items.append(min(3, rest))
        rest -= items[-1]
    return items + [item9]
