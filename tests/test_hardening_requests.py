"""Issue 10, item 5: requests answered in the right order and the right
shape. 401 comes before any look at the body; a body over 2 MB is 413
whether or not it says its length; a header too large gets a JSON 431
under /api, from a real gunicorn run with the repository's settings."""
from __future__ import annotations

import runpy
import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_helpers import gunicorn_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

BAD_BODIES = [
    {"data": b"{not json", "content_type": "application/json"},
    {"data": b"x=1", "content_type": "application/x-www-form-urlencoded"},
    {"data": b'{"name": "a\\u0000b"}', "content_type": "application/json"},
    {"data": b'{"name": 5, "first_date": "0001-01-01"}', "content_type": "application/json"},
    {"data": b"[" * 5000 + b"]" * 5000, "content_type": "application/json"},
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=["not-json", "form", "nul", "schema", "deep"])
@pytest.mark.parametrize("method, url", [
    ("post", "/api/courses"), ("post", "/api/clients"), ("patch", "/api/clients/1"),
    ("put", "/api/courses/1/intake"), ("post", "/api/courses/1/sessions/1/reschedule"),
    ("post", "/api/clinicians/1/feed"), ("post", "/api/closures"),
])
def test_no_credentials_is_401_before_the_body_is_looked_at(client, method, url, body):
    r = getattr(client, method)(url, **body)
    assert r.status_code == 401, (r.status_code, r.json)
    assert r.json["error"] == "unauthorized"


@pytest.mark.parametrize("body", BAD_BODIES[:3], ids=["not-json", "form", "nul"])
def test_bad_token_is_401_too(client, body):
    r = client.post("/api/courses", headers={"Authorization": "Bearer nope"}, **body)
    assert r.status_code == 401, r.json


def test_wrong_role_is_403_before_the_body(api_as):
    clinician = api_as("clinician")
    r = clinician.post("/api/closures", data=b"{not json", content_type="application/json")
    assert r.status_code == 403, r.json


def test_sign_in_needs_no_token_and_checks_its_body(client):
    r = client.post("/api/tokens", data=b"{not json", content_type="application/json")
    assert r.status_code == 400 and r.json["error"] == "malformed"
    r = client.post("/api/tokens", json={"email": "x"})
    assert r.status_code == 422


def test_signed_in_bad_body_still_gets_its_own_error(admin_api):
    r = admin_api.post("/api/clients", data=b"{not json", content_type="application/json")
    assert r.status_code == 400 and r.json["error"] == "malformed"


# -- through a real gunicorn -------------------------------------------------------
def _settings() -> list[str]:
    """The repository's gunicorn.conf.py limits and worker, as command-line
    options (gunicorn_server runs with its own -c file)."""
    from gunicorn.config import KNOWN_SETTINGS

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    flags = {s.name: s.cli[-1] for s in KNOWN_SETTINGS if s.cli}
    args = []
    for name in ("limit_request_line", "limit_request_fields", "limit_request_field_size",
                 "worker_class"):
        if name in conf:
            args += [flags[name], str(conf[name])]
    return args


@pytest.fixture(scope="module")
def server(db_url):
    with gunicorn_server(db_url, workers=2, extra_args=_settings()) as srv:
        yield srv


def _raw(server, request: bytes, timeout: float = 20) -> tuple[int, dict, bytes]:
    """Send raw bytes, read the whole answer (the server closes or says its length)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading it all
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:]
                               if b": " in line)
                length = headers.get(b"Content-Length")
                if length is not None and len(body) >= int(length):
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {k.decode().lower(): v.decode() for k, v in
               (line.split(b": ", 1) for line in lines[1:] if b": " in line)}
    return status, headers, body


def _chunked(total: int, piece: int = 64 * 1024) -> bytes:
    out = b""
    sent = 0
    while sent < total:
        n = min(piece, total - sent)
        out += f"{n:x}\r\n".encode() + b" " * n + b"\r\n"
        sent += n
    return out + b"0\r\n\r\n"


@pytest.mark.slow
def test_chunked_body_over_2mb_is_413_as_with_a_length(server):
    big = 2 * 1024 * 1024 + 10
    head = (b"POST /api/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\n")
    status, headers, body = _raw(server, head + b"Transfer-Encoding: chunked\r\n\r\n"
                                 + _chunked(big))
    assert status == 413, body[:300]
    assert headers["content-type"].startswith("application/json")
    assert b'"too_large"' in body
    status, _, body = _raw(server, head + f"Content-Length: {big}\r\n\r\n".encode()
                           + b" " * big)
    assert status == 413, body[:300]
    # A small chunked body is read as usual.
    small = b'{"email": "nobody@test.example", "password": "wrong"}'
    status, _, body = _raw(server, head + b"Transfer-Encoding: chunked\r\n\r\n"
                           + f"{len(small):x}\r\n".encode() + small + b"\r\n0\r\n\r\n")
    assert status == 401, body[:300]


@pytest.mark.slow
@pytest.mark.parametrize("size", [9 * 1024, 40 * 1024, 200 * 1024])
def test_header_too_large_is_a_json_431_under_api(server, size):
    request = (b"GET /api/rooms HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               b"X-Big: " + b"a" * size + b"\r\n\r\n")
    status, headers, body = _raw(server, request)
    assert status == 431, body[:300]
    assert headers["content-type"].startswith("application/json"), headers
    assert b'"header_too_large"' in body


@pytest.mark.slow
def test_too_many_headers_is_a_json_431(server):
    many = b"".join(b"X-H%d: 1\r\n" % i for i in range(300))
    status, headers, body = _raw(server, b"GET /api/rooms HTTP/1.1\r\nHost: x\r\n"
                                 b"Connection: close\r\n" + many + b"\r\n")
    assert status == 431, body[:300]
    assert headers["content-type"].startswith("application/json")


@pytest.mark.slow
def test_ordinary_headers_still_pass(server):
    status, headers, _ = _raw(server, b"GET /api/rooms HTTP/1.1\r\nHost: x\r\n"
                              b"Connection: close\r\nX-Ok: " + b"a" * 4000 + b"\r\n\r\n")
    assert status == 401
    assert headers["cache-control"] == "no-store"
