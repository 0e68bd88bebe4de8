"""The slot finder's weekly grid on a real database, and its agreement with
the booking dry run (the grid must never promise what booking refuses)."""
from __future__ import annotations

import random
from datetime import date, time, timedelta

import pytest

from practice.errors import NotFound, RuleViolation
from practice.services.availability import find_slots
from practice.services.slot_grid import ALL, NONE, OFF, SKIPS, slot_grid

TUE = date(2030, 3, 5)  # a Tuesday, far from a change of clocks


@pytest.fixture
def desk(api_as):
    return api_as("front_desk")


def grid_for(app, **args):
    base = {"weeks": 4, "duration_minutes": 60, "date_from": TUE}
    with app.app_context():
        return slot_grid({**base, **args})


def book(desk, clinician, room, clients, first, at="10:00", count=1, minutes=60, dry=False):
    r = desk.post("/api/courses", json={
        "clinician_id": clinician, "room_id": room, "client_ids": clients,
        "first_date": first.isoformat(), "start_time": at, "duration_minutes": minutes,
        "session_count": count, "dry_run": dry})
    assert r.status_code in (200, 201), r.json
    return r.json


def states(grid, weekday):
    return {c.start_time: (c.state, c.free) for c in grid.cells.values() if c.weekday == weekday}


def test_a_free_clinician_and_room_give_all_weeks(app, make_clinician, make_room):
    c = make_clinician(hours=[(1, time(10), time(12))])
    room = make_room()
    grid = grid_for(app, clinician_id=c)
    assert grid.weekdays == [1]
    assert states(grid, 1) == {"10:00": (ALL, 4), "10:30": (ALL, 4), "11:00": (ALL, 4)}
    cell = grid.cell(1, 600)
    assert (cell.clinician_id, cell.room_id, cell.first_date) == (c, room, TUE)


def test_a_closure_in_week_5_completes_only_by_skipping(app, desk, admin_api, make_clinician,
                                                       make_room, make_client):
    c = make_clinician(hours=[(1, time(10), time(11))])
    room = make_room()
    closed = TUE + timedelta(weeks=4)
    assert admin_api.post("/api/closures", json={"date": closed.isoformat(),
                                                 "reason": "Bank holiday"}).status_code == 201
    cell = grid_for(app, clinician_id=c, weeks=8).cell(1, 600)
    assert (cell.state, cell.free, cell.skipped) == (SKIPS, 8, 1)
    preview = book(desk, c, room, [make_client()], TUE, count=8, dry=True)
    assert preview["ok"] and not preview["conflicts"]
    assert [s["date"] for s in preview["skipped"]] == [closed.isoformat()]
    assert "closure" in preview["skipped"][0]["reason"]


def test_an_absence_also_skips(app, admin_api, make_clinician, make_room):
    c = make_clinician(hours=[(1, time(10), time(11))])
    make_room()
    away = TUE + timedelta(weeks=1)
    assert admin_api.post(f"/api/clinicians/{c}/absences", json={
        "start_date": away.isoformat(), "end_date": away.isoformat()}).status_code == 201
    assert grid_for(app, clinician_id=c).cell(1, 600).state == SKIPS


def test_a_busy_clinician_in_one_week_is_not_possible(app, desk, make_clinician, make_room,
                                                      make_client):
    c = make_clinician(hours=[(1, time(10), time(12))])
    room, other = make_room(), make_room()
    book(desk, c, other, [make_client()], TUE + timedelta(weeks=2))  # 10:00-11:00, week 3
    got = states(grid_for(app, clinician_id=c), 1)
    assert got == {"10:00": (NONE, 3), "10:30": (NONE, 3), "11:00": (ALL, 4)}
    assert room


def test_every_room_busy_in_one_week_is_not_possible(app, desk, make_clinician, make_room,
                                                     make_client):
    c = make_clinician(hours=[(1, time(10), time(12))])
    r1, r2 = make_room(), make_room()
    other = make_clinician(hours=[(1, time(8), time(18))])
    book(desk, other, r1, [make_client()], TUE + timedelta(weeks=1), at="10:30")
    book(desk, other, r2, [make_client()], TUE + timedelta(weeks=3), at="10:30", minutes=30)
    got = states(grid_for(app, clinician_id=c), 1)
    # r1 is busy 10:30-11:30 in week 2, r2 10:30-11:00 in week 4: no one room is free
    # every week at 10:00 or 10:30; at 11:00 r2 is.
    assert got == {"10:00": (NONE, 3), "10:30": (NONE, 3), "11:00": (ALL, 4)}
    assert grid_for(app, clinician_id=c).cell(1, 660).room_id == r2


def test_a_room_too_small_for_the_group_is_not_counted(app, desk, make_clinician, make_room,
                                                       make_client):
    c = make_clinician(hours=[(1, time(10), time(11))])
    make_room(capacity=1)  # free every week, but too small for two
    big = make_room(capacity=4)
    other = make_clinician(hours=[(1, time(8), time(18))])
    book(desk, other, big, [make_client()], TUE + timedelta(weeks=1))
    pair = [make_client(), make_client()]
    cell = grid_for(app, clinician_id=c, client_ids=pair).cell(1, 600)
    assert (cell.state, cell.free, cell.room_id) == (NONE, 3, big)
    # One client fits the small room, free all four weeks.
    assert grid_for(app, clinician_id=c, client_ids=pair[:1]).cell(1, 600).state == ALL
    assert grid_for(app, clinician_id=c, min_capacity=2).cell(1, 600).state == NONE


def test_the_clients_own_sessions_count(app, desk, make_clinician, make_room, make_client):
    c = make_clinician(hours=[(1, time(10), time(11))])
    make_room()
    someone, busy_client = make_clinician(hours=[(1, time(8), time(18))]), make_client()
    book(desk, someone, make_room(), [busy_client], TUE + timedelta(weeks=3))
    assert grid_for(app, clinician_id=c).cell(1, 600).state == ALL
    cell = grid_for(app, clinician_id=c, client_ids=[busy_client]).cell(1, 600)
    assert (cell.state, cell.free) == (NONE, 3)


def test_working_hours_and_the_window_bound_the_cells(app, make_clinician, make_room):
    c = make_clinician(hours=[(0, time(9), time(12)), (2, time(14), time(16))])
    make_room()
    grid = grid_for(app, clinician_id=c)
    assert grid.weekdays == [0, 2]
    assert [f"{t // 60:02d}:{t % 60:02d}" for t in grid.rows][:1] == ["09:00"]
    assert grid.rows[-1] == 15 * 60  # 15:00-16:00 ends the Wednesday
    assert grid.cell(0, 9 * 60).state == ALL and grid.cell(0, 11 * 60).state == ALL
    assert grid.cell(0, 11 * 60 + 30).state == OFF  # would end at 12:30
    assert grid.cell(0, 14 * 60).state == OFF
    assert grid.cell(2, 10 * 60).state == OFF and grid.cell(2, 14 * 60).state == ALL
    narrow = grid_for(app, clinician_id=c, earliest=time(10), latest=time(11, 30), weekday=0)
    assert narrow.weekdays == [0] and narrow.rows == [600, 630]  # 10:30-11:30 fits
    assert not grid.cell(0, 14 * 60).pickable


def test_a_modality_shows_its_best_clinician(app, desk, make_clinician, make_room, make_client):
    busy = make_clinician(modalities=["general"], hours=[(1, time(10), time(11))])
    free = make_clinician(modalities=["general"], hours=[(1, time(10), time(11))])
    room, room2 = make_room(), make_room()
    book(desk, busy, room2, [make_client()], TUE)
    cell = grid_for(app, modality="general").cell(1, 600)
    assert (cell.state, cell.clinician_id, cell.room_id) == (ALL, free, room)


@pytest.mark.parametrize("args, field", [
    ({"weeks": 0}, "weeks"), ({"weeks": 105}, "weeks"), ({"weeks": "16"}, "weeks"),
    ({"duration_minutes": 5}, "duration_minutes"), ({"interval_weeks": 9}, "interval_weeks"),
    ({"date_from": date(1999, 12, 31)}, "from"), ({"date_from": date(2200, 1, 1)}, "from"),
    ({"date_from": "2030-01-01"}, "from"), ({"earliest": time(12), "latest": time(11)}, "latest"),
    ({"step": 7}, "step"), ({"weekday": 7}, "weekday"), ({"client_ids": [0]}, "client_ids"),
])
def test_bad_input_is_refused_by_field(app, make_clinician, args, field):
    c = make_clinician()
    with pytest.raises(RuleViolation) as err:
        grid_for(app, clinician_id=c, **args)
    assert err.value.status == 422
    assert field in {v["field"] for v in err.value.violations}


def test_unknown_clinician_client_or_modality(app, make_clinician):
    with pytest.raises(NotFound):
        grid_for(app, clinician_id=999)
    with pytest.raises(NotFound):
        grid_for(app, clinician_id=make_clinician(), client_ids=[4242])
    with pytest.raises(RuleViolation):
        grid_for(app, modality="nope")


def test_a_clinician_who_does_not_deliver_the_modality(app, make_clinician):
    c = make_clinician(modalities=["general"])
    with pytest.raises(RuleViolation) as err:
        grid_for(app, clinician_id=c, modality="unknown-thing")
    assert err.value.violations[0]["field"] == "modality"


def _random_practice(rng, desk, admin_api, make_clinician, make_room, make_client):
    hours = [(wd, time(9), time(13)) for wd in (0, 1, 3)]
    clinicians = [make_clinician(hours=hours) for _ in range(2)]
    other = make_clinician(hours=[(wd, time(7), time(20)) for wd in range(5)])
    rooms = [make_room(capacity=rng.choice((1, 2))) for _ in range(3)]
    clients = [make_client() for _ in range(3)]
    start = date(2030, 3, 4)  # a Monday
    for _ in range(rng.randint(8, 20)):
        day = start + timedelta(days=7 * rng.randrange(6) + rng.choice((0, 1, 3)))
        at = f"{rng.randrange(9, 13):02d}:{rng.choice(('00', '15', '30', '45'))}"
        who = rng.choice(clinicians + [other])
        r = desk.post("/api/courses", json={
            "clinician_id": who, "room_id": rng.choice(rooms),
            "client_ids": [rng.choice(clients + [make_client()])],
            "first_date": day.isoformat(), "start_time": at,
            "duration_minutes": rng.choice((30, 50, 60)), "session_count": 1})
        assert r.status_code in (201, 409)
    # Thursdays of week 2 closed: those series complete only by skipping it.
    assert admin_api.post("/api/closures", json={
        "date": (start + timedelta(days=10)).isoformat(), "reason": "Training"}).status_code == 201
    # The first clinician is busy one Monday morning.
    desk.post("/api/courses", json={
        "clinician_id": clinicians[0], "room_id": rooms[0], "client_ids": [make_client()],
        "first_date": (start + timedelta(weeks=2)).isoformat(), "start_time": "09:00",
        "duration_minutes": 30, "session_count": 1})
    if rng.random() < 0.5:
        away = start + timedelta(days=7 * rng.randrange(1, 5) + 1)
        admin_api.post(f"/api/clinicians/{clinicians[0]}/absences", json={
            "start_date": away.isoformat(), "end_date": away.isoformat(), "reason": "Leave"})
    return clinicians, clients, start


@pytest.mark.parametrize("seed", range(4))
def test_every_cell_agrees_with_the_booking_dry_run(seed, app, desk, admin_api, make_clinician,
                                                    make_room, make_client):
    rng = random.Random(seed)
    clinicians, clients, start = _random_practice(rng, desk, admin_api, make_clinician,
                                                  make_room, make_client)
    chosen = [rng.choice(clients)]
    weeks = 4
    seen = set()
    for who in (clinicians[0], None):
        args = {"weeks": weeks, "duration_minutes": 50, "date_from": start,
                "client_ids": chosen, "step": 30}
        args.update({"clinician_id": who} if who else {"modality": "general"})
        with app.app_context():
            grid = slot_grid(args, ranked=20)
            # The ranked slots beside the grid are the availability search's own.
            query = {k: v for k, v in args.items() if k not in ("client_ids", "step")}
            assert grid.slots == find_slots({**query, "min_capacity": 1, "limit": 20})
            assert grid.slots
        for cell in grid.cells.values():
            seen.add(cell.state)
            if not cell.pickable:
                assert cell.state == OFF
                continue
            preview = book(desk, cell.clinician_id, cell.room_id, chosen, cell.first_date,
                           at=cell.start_time, count=weeks, minutes=50, dry=True)
            where = f"seed {seed}, weekday {cell.weekday} {cell.start_time}: {cell.state}"
            if cell.state == ALL:
                assert preview["ok"] and not preview["conflicts"], where
                assert not preview["skipped"], where
            elif cell.state == SKIPS:
                assert preview["ok"] and not preview["conflicts"], where
                assert len(preview["skipped"]) == cell.skipped > 0, where
            else:
                assert not preview["ok"] and preview["conflicts"], where
                # The best pick clashes on exactly the weeks the cell says are not free.
                assert len(preview["conflicts"]) == weeks - cell.free, where
    assert seen >= {ALL, SKIPS, NONE}, seen


def test_a_start_the_clocks_skip_is_not_free_that_week(app, desk, make_clinician, make_room,
                                                       make_client):
    """London's clocks go forward at 01:00 on Sunday 31 March 2030: 01:00 and
    01:30 do not exist that day, so those series are not possible (booking
    refuses them as ``time.nonexistent``); 02:00 is fine."""
    c = make_clinician(hours=[(6, time(0), time(4))])
    room = make_room()
    grid = grid_for(app, clinician_id=c, date_from=date(2030, 3, 24), duration_minutes=30)
    assert grid.cell(6, 60).state == NONE and grid.cell(6, 60).free == 3
    assert grid.cell(6, 90).state == NONE and grid.cell(6, 120).state == ALL
    r = desk.post("/api/courses", json={
        "clinician_id": c, "room_id": room, "client_ids": [make_client()],
        "first_date": "2030-03-24", "start_time": "01:00", "duration_minutes": 30,
        "session_count": 4, "dry_run": True})
    assert not r.json["ok"] and r.json["violations"][0]["rule"] == "time.nonexistent"
