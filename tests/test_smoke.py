def test_lists_rooms(admin_api, make_room):
    make_room("Room A")
    r = admin_api.get("/api/rooms")
    assert r.status_code == 200, r.json
    assert r.json["total"] == 1
    assert r.json["items"][0]["name"] == "Room A"
