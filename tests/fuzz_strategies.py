"""Hypothesis strategies for the fuzz tests: the boundary values of every date
and time the API takes, and the schemathesis checks every answer must pass.

Boundaries (SPEC 4, issue 10 item 1):
- scheduling dates (bookings, reschedules, closures, absences, searches):
  2000-01-01 to 2199-12-31, so 1999-12-31 and 2200-01-01 must be refused;
- dates of birth: 1900-01-01 to today;
- years 1 and 9999 (where date arithmetic overflows), Feb 29 in a leap year,
  Feb 29 in a common year and Feb 30 (not dates at all);
- Europe/London's DST gap (2030-03-31 01:30 does not exist) and fold
  (2030-10-27 01:30 happens twice), as wall-clock times and as RFC 3339
  date-times with offsets, including +14:00/-12:00 at the range's ends;
- HH:MM edges: 00:00, 23:59, and the invalid 24:00, -1, 7:5, 12:60.
"""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

SCHEDULING_MIN = date(2000, 1, 1)
SCHEDULING_MAX = date(2199, 12, 31)
BIRTH_MIN = date(1900, 1, 1)

# Europe/London's clock changes: the spring gap and the autumn fold.
DST_GAP_DAYS = ("2030-03-31", "2024-03-31", "2199-03-31")
DST_FOLD_DAYS = ("2030-10-27", "2024-10-27", "2199-10-27")
DST_TIMES = ("00:30", "01:00", "01:30", "01:59", "02:00")

NOT_DATES = ("2023-02-29", "2024-02-30", "2100-02-29", "2030-13-01", "2030-00-10",
             "0000-01-01", "10000-01-01", "2030-1-1", "", "today")


def iso(d: date) -> str:
    return d.isoformat()


def _edges(low: date, high: date) -> list[date]:
    return [low, low + timedelta(days=1), low - timedelta(days=1),
            high, high - timedelta(days=1), high + timedelta(days=1)]


def scheduling_dates() -> st.SearchStrategy[str]:
    """Dates at and just outside the scheduling range, overflow years, Feb 29,
    the DST days, and ordinary dates inside the range."""
    special = [iso(d) for d in _edges(SCHEDULING_MIN, SCHEDULING_MAX)]
    special += ["0001-01-01", "0001-01-02", "9999-12-31", "9999-12-30", "1786-05-30",
                "2024-02-29", "2000-02-29", "2196-02-29", *DST_GAP_DAYS, *DST_FOLD_DAYS]
    return st.one_of(
        st.sampled_from(special),
        st.dates(SCHEDULING_MIN, SCHEDULING_MAX).map(iso),
        st.dates().map(iso),
    )


def birth_dates() -> st.SearchStrategy[str]:
    today = date.today()
    special = [iso(d) for d in _edges(BIRTH_MIN, today)]
    special += ["0001-01-01", "9999-12-31", "2000-02-29", "1900-02-28"]
    return st.one_of(st.sampled_from(special), st.dates(BIRTH_MIN, today).map(iso),
                     st.dates().map(iso))


def any_dates() -> st.SearchStrategy[str]:
    """For a field of either kind, and the strings that are not dates."""
    return st.one_of(scheduling_dates(), birth_dates(), st.sampled_from(NOT_DATES))


def clock_times() -> st.SearchStrategy[str]:
    """HH:MM values: the valid edges, the DST gap/fold times, and the invalid."""
    return st.one_of(
        st.sampled_from(["00:00", "23:59", "09:00", "17:59", *DST_TIMES]),
        st.sampled_from(["24:00", "-1", "-01:00", "7:5", "12:60", "23:59:59", "", "25:00"]),
        st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    )


def valid_clock_times() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(["00:00", "23:59", *DST_TIMES]),
                     st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(6, 20),
                               st.sampled_from([0, 15, 30, 45])))


OFFSETS = ("Z", "+00:00", "+01:00", "-00:00", "+14:00", "-12:00", "+05:45", "-00:01")


def date_times() -> st.SearchStrategy[str]:
    """RFC 3339 date-times: the range's ends with extreme offsets (so the UTC
    instant falls outside while the local date does not, or the other way),
    DST gap and fold wall-clock times, and a few that are not RFC 3339."""
    special = [
        "0001-01-01T10:00:00+14:00", "9999-12-31T23:30:00-12:00", "9999-12-31T23:59:59Z",
        "2000-01-01T00:00:00+14:00", "1999-12-31T23:00:00-12:00", "2199-12-31T23:30:00-12:00",
        "2200-01-01T00:00:00+14:00", "2030-03-31T01:30:00+00:00", "2030-03-31T01:30:00+01:00",
        "2030-10-27T01:30:00+00:00", "2030-10-27T01:30:00+01:00", "1786-05-30T10:00:00-00:01",
        "2030-06-03T10:00:00", "2030-06-03 10:00", "2030-06-03T24:00:00Z", "2023-02-29T10:00:00Z",
    ]
    built = st.builds(lambda d, t, o: f"{d}T{t}:00{o}", scheduling_dates(), valid_clock_times(),
                      st.sampled_from(OFFSETS))
    return st.one_of(st.sampled_from(special), built)


def date_format() -> st.SearchStrategy[str]:
    """For schemathesis' ``format: date``: boundary dates of both kinds, mostly
    well-formed (the schema checks the format; the boundaries reach the views)."""
    return st.one_of(scheduling_dates(), birth_dates())


def date_time_format() -> st.SearchStrategy[str]:
    return date_times()


# Fields whose schema is a HH:MM pattern (not a format schemathesis can
# override) or a date; the fuzz test swaps boundary values into them.
TIME_FIELDS = frozenset({"start_time", "earliest", "latest", "start", "end"})
DATE_FIELDS = frozenset({"first_date", "date", "start_date", "end_date", "from", "to"})
BIRTH_FIELDS = frozenset({"date_of_birth"})
DATE_TIME_FIELDS = frozenset({"starts_at"})


def boundary_for(name: str) -> st.SearchStrategy[str] | None:
    if name in TIME_FIELDS:
        return clock_times()
    if name in DATE_FIELDS:
        return scheduling_dates()
    if name in BIRTH_FIELDS:
        return birth_dates()
    if name in DATE_TIME_FIELDS:
        return date_times()
    return None


def swap_boundaries(data, container) -> None:
    """Replace, each with probability one half, the date and time fields of a
    generated body or query (recursively, so overrides and working hours too)
    by boundary values drawn from ``data``."""
    if isinstance(container, dict):
        for key in list(container):
            strategy = boundary_for(key)
            if strategy is not None and isinstance(container[key], str | type(None)):
                if data.draw(st.booleans(), label=f"swap {key}"):
                    container[key] = data.draw(strategy, label=key)
            else:
                swap_boundaries(data, container[key])
    elif isinstance(container, list):
        for item in container:
            swap_boundaries(data, item)


def fuzz_checks():
    """The checks every answer must pass: no server error, a status the
    document lists, the documented content type, the documented body."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (content_type_conformance,
                                                   response_schema_conformance,
                                                   status_code_conformance)
    return [not_a_server_error, status_code_conformance, content_type_conformance,
            response_schema_conformance]


# Statuses the document covers only through its ``default`` (Error) answer.
ERROR_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 413, 415, 422, 429})


def assert_documented_status(operation_definition: dict, status: int) -> None:
    """Stricter than schemathesis' status check, which any status passes when
    the document has a ``default``: a status listed by the operation, or a
    client error answered with the Error body."""
    listed = {str(code) for code in operation_definition.get("responses", {})}
    assert str(status) in listed or ("default" in listed and status in ERROR_STATUSES), (
        status, sorted(listed))
