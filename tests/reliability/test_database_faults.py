"""The database away, slow, locked or read-only: a styled 503 in bounded time, then recovery.

Nothing here stops the shared PostgreSQL server: the app reaches it through a small TCP
proxy (:class:`TcpProxy`) that the tests cut, or turn into a black hole that accepts
connections and never answers. "Unreachable" is a port nobody listens on.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask

from lms import db
from lms.models import Role, User
from tests.conftest import POSTGRES_URL, make_test_app

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (LMS_TEST_DATABASE_URL)")

#: The layout's skip link in each language: proof the page is in the reader's language.
SKIP_LINK = {
    "bs": "Preskoči na glavni sadržaj",
    "cnr": "Preskoči na glavni sadržaj",
    "hr": "Prijeđi na glavni sadržaj",
    "mk": "Прескокни до главната содржина",
    "sq": "Kaloni te përmbajtja kryesore",
    "sr-Cyrl": "Пређи на главни садржај",
    "sr-Latn": "Pređi na glavni sadržaj",
}


class TcpProxy:
    """Forwards a local port to ``upstream``; :meth:`cut` refuses and drops connections,
    :meth:`black_hole` accepts them and never answers, :meth:`restore` forwards again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.mode = "forward"
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.port = self._listen(0)

    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(16)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return listener.getsockname()[1]

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            self._track(client)
            if self.mode == "black hole":
                continue  # accepted, never answered
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                self._close(client)
                continue
            self._track(server)
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        self._close(source)
        self._close(target)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _drop_all(self) -> None:
        if self._listener is not None:
            # shutdown() first: close() alone does not wake a thread blocked in accept().
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._close(sock)

    def cut(self) -> None:
        """The database is gone: connections are refused, open ones broken."""
        self._drop_all()

    def black_hole(self) -> None:
        """The database accepts connections and never answers."""
        self._drop_all()
        self.mode = "black hole"
        self._listen(self.port)

    def restore(self) -> None:
        self._drop_all()
        self.mode = "forward"
        self._listen(self.port)

    def close(self) -> None:
        self._drop_all()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _login(client: Any, user_id: int, nonce: str, language: str | None = None) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:{nonce}"
        session["_fresh"] = True
        now = db.utcnow().timestamp()
        session["login_at"] = now
        session["seen_at"] = now
        if language:
            session["language"] = language


def _assert_unavailable_page(response: Any, language: str) -> str:
    """A 503 with Retry-After, in the site's layout and ``language``, without the menu."""
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    html = response.get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    assert "/static/css/app.css" in html
    assert SKIP_LINK[language] in html
    assert 'class="status-code"' in html
    assert "main-nav" not in html and "Log out" not in html
    return html


# --- Unreachable: any engine, the app pointed at a port nobody listens on ----------------


@pytest.fixture
def unreachable_app(tmp_path: Path, content_dir: Path) -> Iterator[Flask]:
    app = make_test_app(f"postgresql+psycopg://lms@127.0.0.1:{_closed_port()}/lms", tmp_path, CONTENT_DIR=content_dir)
    yield app
    app.extensions["lms.engine"].dispose()


def test_unreachable_database_gives_a_styled_503_to_anonymous_visitors(unreachable_app: Flask) -> None:
    client = unreachable_app.test_client()
    response = client.post(
        "/auth/login",
        data={"email": "ana@example.org", "password": "correct horse battery staple"},
        headers={"Accept-Language": "mk-MK,mk;q=0.9,en;q=0.5"},
    )
    _assert_unavailable_page(response, "mk")


def test_unreachable_database_gives_signed_in_people_a_503_in_their_language(unreachable_app: Flask) -> None:
    client = unreachable_app.test_client()
    _login(client, 7, "nonce", language="sr-Cyrl")
    # The user loader is the first thing to need the database, on every page (a 404 too).
    for path in ["/", "/people/", "/no-such-page"]:
        html = _assert_unavailable_page(client.get(path, headers={"Accept-Language": "en"}), "sr-Cyrl")
        assert f'href="{path}"' in html  # try again


def test_healthz_reports_an_unreachable_database(unreachable_app: Flask) -> None:
    response = unreachable_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unavailable"}
    assert "Retry-After" in response.headers


def test_a_bug_in_a_query_is_still_a_500_not_a_503(app: Flask) -> None:
    # Only faults of the database itself are 503s; a wrong query is an error of ours.
    with app.app_context(), db.new_session() as session:
        with pytest.raises(sa.exc.SQLAlchemyError) as raised:
            session.execute(sa.text("SELECT * FROM no_such_table"))
        assert db.fault(raised.value) is None


def _sqlite_error(code: int) -> sqlite3.Error:
    error = sqlite3.OperationalError("sqlite says no")
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("wrapper", "original", "reason"),
    [
        (sa.exc.OperationalError, _sqlite_error(5), "busy"),  # SQLITE_BUSY: database is locked
        (sa.exc.OperationalError, _sqlite_error(8 | 1 << 8), "read-only"),  # SQLITE_READONLY_RECOVERY
        (sa.exc.OperationalError, _sqlite_error(1), None),  # SQLITE_ERROR: no such table, a bug
        (sa.exc.OperationalError, psycopg.errors.QueryCanceled(), "timed out"),
        (sa.exc.OperationalError, psycopg.errors.LockNotAvailable(), "busy"),
        (sa.exc.OperationalError, psycopg.errors.AdminShutdown(), "unavailable"),
        (sa.exc.OperationalError, psycopg.errors.DeadlockDetected(), "busy"),
        (sa.exc.InternalError, psycopg.errors.ReadOnlySqlTransaction(), "read-only"),
        (sa.exc.OperationalError, psycopg.OperationalError("connection failed: refused"), "unavailable"),
        (sa.exc.ProgrammingError, psycopg.errors.UndefinedTable(), None),
        (sa.exc.DataError, psycopg.errors.NumericValueOutOfRange(), None),
        (sa.exc.IntegrityError, psycopg.errors.UniqueViolation(), None),
    ],
)
def test_database_faults_are_told_from_bugs_and_refused_values(
    wrapper: type, original: Exception, reason: str | None
) -> None:
    assert db.fault(wrapper("SELECT 1", {}, original)) == reason


def test_a_pool_without_a_free_connection_is_busy() -> None:
    assert db.fault(sa.exc.TimeoutError("QueuePool limit reached")) == "busy"


# --- SQLite: a writer holding the lock, a read-only file ---------------------------------


def _sqlite_path(app: Flask) -> str:
    engine = app.extensions["lms.engine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    return engine.url.database


def _person(app: Flask, make_user: Any) -> tuple[int, str]:
    person = make_user("ana@example.org", roles=[Role.TRAINEE])
    return person.id, person.session_nonce


def _preferred_language(app: Flask, user_id: int) -> str:
    with app.app_context(), db.new_session() as session:
        return session.get(User, user_id).preferred_language


def test_sqlite_writer_waiting_past_the_busy_timeout_gets_a_503(
    app: Flask, make_user: Any, database_url: str, tmp_path: Path
) -> None:
    path = _sqlite_path(app)
    user_id, nonce = _person(app, make_user)
    impatient = make_test_app(database_url, tmp_path, SQLITE_BUSY_TIMEOUT_MS=50)
    client = impatient.test_client()
    _login(client, user_id, nonce, language="hr")
    change = {"language": "sq", "next": "/account/"}

    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer, for longer than the busy timeout
    try:
        assert client.get("/account/").status_code == 200  # readers are not held up
        _assert_unavailable_page(client.post("/account/language", data=change), "hr")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert client.post("/account/language", data=change).status_code == 302
    assert _preferred_language(app, user_id) == "sq"
    impatient.extensions["lms.engine"].dispose()


@contextmanager
def _read_only(path: str) -> Iterator[None]:
    """Make the file unwritable, even for root (who ignores permissions but not +i)."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", path], check=False, capture_output=True).returncode:
            pytest.skip("running as root without chattr +i: cannot make a file read-only")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", path], check=True)
        return
    mode = os.stat(path).st_mode
    os.chmod(path, 0o444)
    try:
        yield
    finally:
        os.chmod(path, mode)


def test_read_only_sqlite_file_is_reported_and_writes_work_again_once_writable(app: Flask, make_user: Any) -> None:
    path = _sqlite_path(app)
    user_id, nonce = _person(app, make_user)
    client = app.test_client()
    _login(client, user_id, nonce, language="bs")
    change = {"language": "mk", "next": "/account/"}
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}

    with _read_only(path):
        # As after a restart: every connection is opened on the read-only file.
        app.extensions["lms.engine"].dispose()
        health = client.get("/healthz")
        assert (health.status_code, health.json) == (503, {"status": "error", "database": "read-only"})
        assert client.get("/account/").status_code == 200  # reading still works
        # The write fails after the view took the new language for this browser.
        _assert_unavailable_page(client.post("/account/language", data=change), "mk")

    # Writable again: the same app writes, without a restart.
    assert client.get("/healthz").status_code == 200
    assert client.post("/account/language", data=change).status_code == 302
    assert _preferred_language(app, user_id) == "mk"


# --- PostgreSQL: timeouts, a locked table, the server away and back ----------------------


def _pg_app(url: str, tmp_path: Path, content_dir: Path, **settings: Any) -> Flask:
    return make_test_app(url, tmp_path, CONTENT_DIR=content_dir, **settings)


@contextmanager
def _locked_users_table(app: Flask) -> Iterator[None]:
    with app.extensions["lms.engine"].connect() as connection:
        connection.exec_driver_sql("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            connection.rollback()


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param({"DB_LOCK_TIMEOUT_MS": 300}, id="lock_timeout"),
        pytest.param({"DB_LOCK_TIMEOUT_MS": 0, "DB_STATEMENT_TIMEOUT_MS": 300}, id="statement_timeout"),
    ],
)
@pytest.mark.postgres_only
@needs_postgres
@pytest.mark.timeout(60)
def test_locked_table_gives_a_503_instead_of_a_hang(
    limits: dict[str, int], app: Flask, make_user: Any, database_url: str, tmp_path: Path, content_dir: Path
) -> None:
    user_id, nonce = _person(app, make_user)
    web = _pg_app(database_url, tmp_path, content_dir, **limits)
    client = web.test_client()
    _login(client, user_id, nonce, language="sq")
    try:
        with _locked_users_table(app):
            _assert_unavailable_page(client.get("/"), "sq")
        assert client.get("/").status_code == 200
    finally:
        web.extensions["lms.engine"].dispose()


@pytest.mark.postgres_only
@needs_postgres
def test_postgres_limits_apply_to_web_requests_and_not_to_background_work(app: Flask) -> None:
    engine = app.extensions["lms.engine"]

    def settings() -> tuple[str, str]:
        with engine.connect() as connection:
            return (
                connection.exec_driver_sql("SHOW statement_timeout").scalar(),
                connection.exec_driver_sql("SHOW lock_timeout").scalar(),
            )

    with app.test_request_context("/"):
        assert settings() == ("20s", "5s")
    with app.app_context():  # the print worker, the command line
        assert settings() == ("0", "0")
    with app.test_request_context("/"):
        assert settings() == ("20s", "5s")


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    assert POSTGRES_URL
    url = sa.make_url(POSTGRES_URL)
    tcp = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield tcp
    tcp.close()


def _through(proxy: TcpProxy, database_url: str) -> str:
    return sa.make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


@pytest.mark.postgres_only
@needs_postgres
@pytest.mark.timeout(60)
def test_database_away_then_back_the_same_app_recovers(
    proxy: TcpProxy, app: Flask, make_user: Any, database_url: str, tmp_path: Path, content_dir: Path
) -> None:
    user_id, nonce = _person(app, make_user)
    web = _pg_app(_through(proxy, database_url), tmp_path, content_dir)
    client = web.test_client()
    _login(client, user_id, nonce, language="sr-Latn")
    try:
        assert client.get("/").status_code == 200
        proxy.cut()  # the server stops: pooled connections break, new ones are refused
        _assert_unavailable_page(client.get("/"), "sr-Latn")
        assert client.get("/healthz").status_code == 503
        proxy.restore()
        assert client.get("/").status_code == 200
        assert client.get("/healthz").json == {"status": "ok", "database": "ok"}
    finally:
        web.extensions["lms.engine"].dispose()


@pytest.mark.postgres_only
@needs_postgres
@pytest.mark.timeout(60)
def test_database_that_accepts_but_never_answers_gives_a_503(
    proxy: TcpProxy, app: Flask, make_user: Any, database_url: str, tmp_path: Path, content_dir: Path
) -> None:
    user_id, nonce = _person(app, make_user)
    web = _pg_app(_through(proxy, database_url), tmp_path, content_dir, DB_CONNECT_TIMEOUT=2)
    client = web.test_client()
    _login(client, user_id, nonce, language="cnr")
    try:
        proxy.black_hole()
        web.extensions["lms.engine"].dispose()  # new connections only: those are what hang
        health = web.test_client().get("/healthz")  # as a load balancer asks: no cookie
        assert (health.status_code, health.json["database"]) == (503, "unavailable")
        _assert_unavailable_page(client.get("/"), "cnr")
        proxy.restore()
        assert client.get("/").status_code == 200
    finally:
        web.extensions["lms.engine"].dispose()


@pytest.mark.postgres_only
@needs_postgres
def test_read_only_postgres_is_reported_by_healthz(database_url: str, tmp_path: Path, content_dir: Path) -> None:
    # As a hot standby, or a server set read-only: every transaction refuses writes.
    url = sa.make_url(database_url).update_query_dict({"options": "-c default_transaction_read_only=on"})
    web = _pg_app(url.render_as_string(hide_password=False), tmp_path, content_dir)
    try:
        health = web.test_client().get("/healthz")
        assert (health.status_code, health.json) == (503, {"status": "error", "database": "read-only"})
    finally:
        web.extensions["lms.engine"].dispose()
