"""Malformed requests get a clear 4xx or a safe redirect, never a 500 (issue 22, item 6)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.support.slowclients import shipped_server
from tests.support.staff import PASSWORD, make_user, post, staff_app
from tests.support.stores import discard, new_store


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    store = new_store("sqlite", tmp_path_factory.mktemp("malformed"))
    yield store
    discard(store)


@pytest.fixture(scope="module")
def app(db, geodata):
    return staff_app(db, geodata)


@pytest.mark.parametrize("line_break", ["\r\n", "\n", "\r"])
def test_a_next_page_holding_a_line_break_signs_in_to_the_staff_home_not_a_500(app, db, line_break):
    editor = make_user(db, f"ed{line_break.encode().hex()}@example.org", wards=["E05013806"])
    client = app.test_client()
    next_page = f"/admin/{line_break}Set-Cookie: planted=1"
    page = client.get("/admin/sign-in", query_string={"next": next_page})
    assert page.status_code == 200
    response = post(client, "/admin/sign-in", {"email": editor.email, "password": PASSWORD, "next": next_page})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert "planted" not in str(response.headers)


def raw_request(port: int, request: bytes) -> bytes:
    """Send bytes to the server as they are, and read its whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)  # no half-close: nginx takes it for a client gone and answers nothing
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[int]:
    """The finder as ./scripts/serve runs it (nginx in front of gunicorn), on a free port."""
    folder = tmp_path_factory.mktemp("served")
    env = {"PATH": "/usr/bin:/bin", "FINDER_ENV": "development", "DATABASE_URL": f"sqlite:///{folder / 'finder.db'}"}
    with (folder / "server.log").open("wb") as out, shipped_server(env, out, workers=1) as (_, base):
        yield int(base.rsplit(":", 1)[1])


@pytest.mark.parametrize("chunk_size", [b"zz", b"-5", b"", b"1"])
@pytest.mark.parametrize(
    "path,content_type",
    [("/api/v1/postcodes", "application/json"), ("/admin/sign-in", "application/x-www-form-urlencoded")],
)
def test_a_chunked_body_with_a_bad_chunk_size_gets_a_clear_400_from_the_served_finder(
    served, path, content_type, chunk_size
):
    answer = raw_request(
        served,
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{served}\r\nContent-Type: {content_type}\r\n".encode()
        + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + chunk_size
        + b"\r\nemail=a%40b.c&password=x\r\n0\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:600]
    # nginx in front (scripts/run-server) refuses it before the app: its own 400 page, never the app's 500.
    assert b"400 Bad Request" in body, body[:600]


def test_a_no_team_report_with_a_long_chunked_body_is_refused_by_the_served_finder(served):
    body = b"x=" + b"a" * 5000
    answer = raw_request(
        served,
        f"POST /wards/E05013808/no-team HTTP/1.1\r\nHost: 127.0.0.1:{served}\r\n".encode()
        + b"Content-Type: application/x-www-form-urlencoded\r\nSec-Fetch-Site: same-origin\r\n"
        + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n",
    )
    head, _, page = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), answer[:600]
    assert b"larger than the form sends" in page
