"""Backups of the database and restoring them (``lms backup``, ``lms restore``).

A backup is one file in the database's own format, usable without this code:

- SQLite: a copy made with SQLite's online backup API, a consistent snapshot taken while
  the app keeps running (in WAL mode readers never block writers). It is a plain database
  file: ``sqlite3 FILE`` opens it.
- PostgreSQL: ``pg_dump -Fc --no-owner``, also one consistent snapshot of a running
  database. ``pg_restore`` reads it.

The schema version travels inside the backup, in its ``alembic_version`` table, and
:func:`restore` checks it: a backup made by this version of the code, or by an older one
(restored, then migrated forward as ``lms init`` would), is accepted; one made by a newer
version is refused, because this code cannot know what its schema means.

A restore replaces the whole database at once or not at all: SQLite copies the backup's
pages into the database in one step; on PostgreSQL the tables are dropped and the dump
loaded in one transaction, committed only when all of it loaded.

The password of a PostgreSQL URL goes to the client programs through ``PGPASSWORD``,
never on their command line (where ``ps`` would show it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session

from lms import db, migrate
from lms.audit.service import Action, record

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
#: Seconds a client program waits for PostgreSQL to accept the connection.
PG_CONNECT_TIMEOUT = 10
#: How long a restore waits for the tables it replaces while other sessions use them.
PG_LOCK_WAIT = "60s"
#: The schema version's table, kept by Alembic in every LMS database.
VERSION_TABLE = "alembic_version"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BackupResult:
    path: Path
    engine: str  # "sqlite" or "postgresql"
    revision: str
    size: int
    sha256: str


@dataclass(frozen=True)
class RestoreResult:
    source: Path
    engine: str
    revision: str  # the backup's schema version
    upgraded_to: str | None  # the schema version it was migrated to, when it was older
    replaced_rows: int  # rows the database held before, now gone
    sha256: str


# --- What else to keep ----------------------------------------------------------------


def other_things_to_keep(config: Any) -> list[str]:
    """What a database backup does not hold and must be kept beside it, one sentence each."""
    jobs = config.get("PRINT_STORAGE_DIR") or Path(config["INSTANCE_DIR"]) / "print-jobs"
    if os.environ.get("LMS_SECRET_KEY"):
        key = "the secret key LMS_SECRET_KEY (from the environment)"
    else:
        key = f"the secret key in {Path(config['INSTANCE_DIR']) / 'secret_key'}"
    return [
        f"{key}: without the same key the second-factor (MFA) keys in the backup cannot be "
        "read, and everyone with a second factor would need it reset. Keep it apart from the backup.",
        f"the print job files in {jobs} (finished certificate batches, deleted after 7 days): "
        "copy the directory; a lost batch can be printed again, the certificates are in the database.",
        "the environment (LMS_* settings) and any content/ changes not in version control.",
    ]


# --- Backup -----------------------------------------------------------------------------


def backup(url: str, output: Path) -> BackupResult:
    """Write a consistent backup of the database at ``url`` to ``output``.

    The file appears complete or not at all (written beside it, then renamed); an existing
    file of that name is replaced only by a backup that succeeded. It is readable by its
    owner only: it holds personal data and password hashes.
    """
    parsed = sa.make_url(url)
    output = output.expanduser()
    if not output.parent.is_dir():
        raise BackupError(f"The directory {output.parent} does not exist.")
    if output.is_dir():
        raise BackupError(f"{output} is a directory; give the backup file's name.")
    engine = _engine_kind(parsed)
    with _temporary_beside(output) as temporary:
        if engine == "sqlite":
            source = _sqlite_path(parsed)
            if _same_file(source, output):
                raise BackupError("The backup file cannot be the database itself.")
            _sqlite_backup(source, temporary)
        else:
            _pg_dump(parsed, temporary)
        # Read the schema version back from the file just written: this also proves the
        # file can be read by the program that will restore it.
        revision = backup_revision(temporary)
        if revision is None:
            raise BackupError(
                "The database has no schema version (no alembic_version table): "
                "it is not an LMS database, or `flask --app app lms init` was never run."
            )
        _fsync(temporary)
        os.replace(temporary, output)
    _fsync_directory(output.parent)
    return BackupResult(output, engine, revision, output.stat().st_size, file_sha256(output))


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"The SQLite database {source} does not exist.")
    try:
        with (
            contextlib.closing(_sqlite_connect(source, mode="rw")) as from_db,
            contextlib.closing(sqlite3.connect(target)) as to_db,
        ):
            # One step (pages=-1): one read transaction, so one consistent snapshot.
            from_db.backup(to_db)
            # A standalone file: no -wal beside it to forget when copying it away.
            to_db.execute("PRAGMA journal_mode=DELETE")
            _require_intact(to_db, target)
    except sqlite3.Error as error:
        raise BackupError(f"SQLite could not back up {source}: {error}") from error


def _pg_dump(url: sa.URL, target: Path) -> None:
    conninfo, env = _libpq(url)
    command = [_client("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", f"--dbname={conninfo}"]
    _run(command, env, "pg_dump")


# --- Reading a backup -------------------------------------------------------------------


def backup_kind(path: Path) -> str:
    """``"sqlite"`` or ``"postgresql"``, from the file's first bytes."""
    try:
        with path.open("rb") as handle:
            start = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"There is no file {path}.") from None
    except OSError as error:
        raise BackupError(f"{path} cannot be read: {error.strerror}.") from error
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(
        f"{path} is not a backup made by `lms backup`: neither an SQLite database nor a pg_dump custom-format file."
    )


def backup_revision(path: Path) -> str | None:
    """The schema version (Alembic revision) recorded in the backup, or None if none is."""
    if backup_kind(path) == "sqlite":
        try:
            with contextlib.closing(_sqlite_connect(path, mode="ro")) as connection:
                if not connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
                ).fetchone():
                    return None
                row = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()  # noqa: S608
        except sqlite3.Error as error:
            raise BackupError(f"{path} cannot be read as an SQLite database: {error}") from error
        return row[0] if row else None
    # The table's data, as the SQL text pg_restore would run: no database needed.
    command = [_client("pg_restore"), "--data-only", f"--table={VERSION_TABLE}", "--file=-", str(path)]
    script = _run(command, dict(os.environ), "pg_restore")
    lines = iter(script.splitlines())
    for line in lines:
        if line.startswith("COPY ") and f".{VERSION_TABLE} " in line:
            value = next(lines, "\\.")
            return None if value == "\\." else value.strip()
    return None


def check_revision(revision: str | None, path: Path) -> bool:
    """Refuse a backup whose schema this code does not know; True if it is older than head."""
    head = migrate.head_revision()
    if revision is None:
        raise BackupError(f"{path} has no schema version (no alembic_version table): it is not a backup of the LMS.")
    if revision == head:
        return False
    known = {script.revision for script in ScriptDirectory(str(migrate.MIGRATIONS_DIR)).walk_revisions()}
    if revision not in known:
        raise BackupError(
            f"The backup's schema version is {revision}, which this version of the LMS does not know "
            f"(its schema is at {head}): the backup was made by a newer version. "
            "Restore it with that version of the code."
        )
    return True


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- Restore ----------------------------------------------------------------------------


def row_counts(engine: sa.Engine) -> dict[str, int]:
    """The number of rows of every table of the database (``alembic_version`` included)."""
    with engine.connect() as connection:
        preparer = connection.dialect.identifier_preparer
        return {
            table: connection.scalar(sa.text(f"SELECT count(*) FROM {preparer.quote(table)}")) or 0  # noqa: S608
            for table in sorted(sa.inspect(connection).get_table_names())
        }


def restore(url: str, source: Path, *, force: bool = False) -> RestoreResult:
    """Replace the database at ``url`` with the backup ``source``.

    Refused, before anything is changed, when the backup is not one of this engine, is
    damaged, comes from a newer version of the LMS, or when the database already holds
    data and ``force`` is not given. A backup of an older version is migrated forward.
    """
    parsed = sa.make_url(url)
    source = source.expanduser()
    engine_kind = _engine_kind(parsed)
    kind = backup_kind(source)
    if kind != engine_kind:
        raise BackupError(
            f"{source} is a backup of a {_NAMES[kind]} database; the configured database "
            f"(LMS_DATABASE_URL) is {_NAMES[engine_kind]}. Restore it into a {_NAMES[kind]} database."
        )
    if kind == "sqlite" and _same_file(_sqlite_path(parsed), source):
        raise BackupError("The backup file is the database itself.")
    revision = backup_revision(source)
    older = check_revision(revision, source)
    assert revision is not None  # checked above
    sha256 = file_sha256(source)

    replaced = _existing_rows(parsed)
    if replaced and not force:
        largest = sorted(replaced.items(), key=lambda item: (-item[1], item[0]))[:3]
        examples = ", ".join(f"{table}: {count}" for table, count in largest)
        raise BackupError(
            f"The database already holds {sum(replaced.values())} rows in {len(replaced)} tables "
            f"({examples}...): restoring would replace all of them. Back it up first if it may be needed, "
            "then run the restore again with --force."
        )
    if kind == "sqlite":
        _sqlite_restore(source, _sqlite_path(parsed))
    else:
        _pg_restore(parsed, source)

    upgraded_to = None
    if older:
        engine = db.create_engine(url)
        try:
            migrate.upgrade(engine)
            upgraded_to = migrate.current_revision(engine)
        except Exception as error:  # any migration failure: say where the database stands
            raise BackupError(
                f"The backup was restored at schema version {revision}, but migrating it to "
                f"{migrate.head_revision()} failed: {error}. Run this version of the LMS only after "
                "`flask --app app lms init` succeeds, or use the version that made the backup."
            ) from error
        finally:
            engine.dispose()
    return RestoreResult(source, kind, revision, upgraded_to, sum(replaced.values()), sha256)


def _existing_rows(url: sa.URL) -> dict[str, int]:
    """Rows per table in the database about to be replaced (the schema version aside)."""
    if url.get_backend_name() == "sqlite" and not _sqlite_path(url).exists():
        return {}
    engine = db.create_engine(url.render_as_string(hide_password=False))
    try:
        counts = row_counts(engine)
    except sa.exc.OperationalError as error:
        raise BackupError(f"The database cannot be reached: {error.orig or error}") from error
    finally:
        engine.dispose()
    counts.pop(VERSION_TABLE, None)
    return {table: count for table, count in counts.items() if count}


def _sqlite_restore(source: Path, target: Path) -> None:
    if not target.parent.is_dir():
        raise BackupError(f"The directory {target.parent} does not exist.")
    try:
        with contextlib.closing(_sqlite_connect(source, mode="ro")) as from_db:
            _require_intact(from_db, source)
            with contextlib.closing(sqlite3.connect(target, timeout=db.SQLITE_BUSY_TIMEOUT_MS / 1000)) as to_db:
                # The backup API replaces every page of the target in one write
                # transaction: other connections see the old database or the restored one.
                from_db.backup(to_db)
    except sqlite3.Error as error:
        raise BackupError(f"SQLite could not restore {source} into {target}: {error}") from error


def _pg_restore(url: sa.URL, source: Path) -> None:
    """Load the dump in one transaction: the old tables go only if all of the dump loads.

    ``pg_restore --clean`` drops what the dump holds; the preamble drops the LMS tables
    that a newer schema added, so that an older backup migrates forward cleanly.
    ``pg_restore`` writes the SQL, ``psql`` runs it, and COMMIT is sent only after
    ``pg_restore`` finished without error: a truncated or damaged dump changes nothing.
    """
    conninfo, env = _libpq(url)
    pg_restore, psql = _client("pg_restore"), _client("psql")
    tables = _lms_tables(url)
    # The app or the worker still running would hold locks: wait a while for them, not forever.
    preamble = f"SET client_min_messages = warning;\nSET lock_timeout = '{PG_LOCK_WAIT}';\nBEGIN;\n"
    if tables:
        preamble += f"DROP TABLE IF EXISTS {', '.join(tables)} CASCADE;\n"
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        # The SQL goes straight into psql, never to a file: it holds personal data.
        reader = subprocess.Popen(  # noqa: S603 - a fixed program, no shell
            [pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--file=-", str(source)],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
            env=env,
        )
        writer = subprocess.Popen(  # noqa: S603 - a fixed program, no shell
            [psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", f"--dbname={conninfo}", "--file=-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=env,
        )
        assert reader.stdout is not None and writer.stdin is not None
        unreadable = False
        try:
            writer.stdin.write(preamble.encode())
            shutil.copyfileobj(reader.stdout, writer.stdin, _CHUNK)
            unreadable = reader.wait() != 0
            if unreadable:
                # psql dies without COMMIT: the server rolls the whole transaction back.
                writer.kill()
            else:
                writer.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:
            pass  # psql stopped at an error; its own message is reported below
        finally:
            if reader.poll() is None:
                reader.kill()
            reader.wait()
            reader.stdout.close()
            with contextlib.suppress(BrokenPipeError):
                writer.stdin.close()
            failed = writer.wait() != 0
        if unreadable:
            raise BackupError(f"pg_restore could not read {source}, nothing was changed: {_tail(restore_errors)}")
        if failed:
            said = _tail(psql_errors)
            hint = " Stop the app and the print worker first." if "lock timeout" in said else ""
            raise BackupError(f"The restore failed and changed nothing; psql said: {said}{hint}")


def _lms_tables(url: sa.URL) -> list[str]:
    """The LMS's tables present in the database, quoted, with their schema."""
    engine = db.create_engine(url.render_as_string(hide_password=False))
    try:
        inspector = sa.inspect(engine)
        schema = inspector.default_schema_name
        preparer = engine.dialect.identifier_preparer
        ours = set(db.Base.metadata.tables) | {VERSION_TABLE}
        return [
            f"{preparer.quote_schema(schema)}.{preparer.quote(name)}" if schema else preparer.quote(name)
            for name in sorted(set(inspector.get_table_names()) & ours)
        ]
    finally:
        engine.dispose()


# --- Audit ------------------------------------------------------------------------------


def record_backup(session: Session, result: BackupResult) -> None:
    record(
        session,
        Action.DATABASE_BACKED_UP,
        actor=None,
        subject=str(result.path)[-254:],
        details={"engine": result.engine, "revision": result.revision, "bytes": result.size, "sha256": result.sha256},
    )
    session.flush()


def record_restore(session: Session, result: RestoreResult, *, forced: bool) -> None:
    record(
        session,
        Action.DATABASE_RESTORED,
        actor=None,
        subject=str(result.source)[-254:],
        details={
            "engine": result.engine,
            "revision": result.revision,
            "upgraded_to": result.upgraded_to,
            "replaced_rows": result.replaced_rows,
            "forced": forced,
            "sha256": result.sha256,
        },
    )
    session.flush()


# --- Helpers ----------------------------------------------------------------------------

_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _engine_kind(url: sa.URL) -> str:
    backend = url.get_backend_name()
    if backend not in _NAMES:
        raise BackupError(f"Backups are made of SQLite and PostgreSQL databases, not {backend}.")
    return backend


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("Only an SQLite database in a file can be backed up or restored (sqlite:///path).")
    return Path(url.database).expanduser()


def _sqlite_connect(path: Path, *, mode: str) -> sqlite3.Connection:
    """A connection to an existing file (``mode`` "ro" or "rw"), never creating one."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=db.SQLITE_BUSY_TIMEOUT_MS / 1000)


def _require_whole(path: Path) -> None:
    """A SQLite file as long as its header says: a cut-off copy can pass ``quick_check`` when
    the pages it lost held nothing yet (an empty table's root page), so its length is checked."""
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100:
        raise BackupError(f"{path} is damaged (shorter than a SQLite header).")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count in the header is valid when its "version-valid-for" matches the change counter.
    if header[92:96] == header[24:28] and path.stat().st_size < page_size * pages:
        raise BackupError(
            f"{path} is damaged: it holds {path.stat().st_size} bytes of the {page_size * pages} its header announces."
        )


def _require_intact(connection: sqlite3.Connection, path: Path) -> None:
    _require_whole(path)
    result = connection.execute("PRAGMA quick_check").fetchone()
    if not result or result[0] != "ok":
        raise BackupError(f"{path} is damaged (SQLite quick_check: {result[0] if result else 'no answer'}).")


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it."""
    params: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "dbname": url.database,
        "connect_timeout": PG_CONNECT_TIMEOUT,
    }
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    conninfo = " ".join(f"{key}={_conninfo_value(value)}" for key, value in params.items() if value not in (None, ""))
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env


def _conninfo_value(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _client(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise BackupError(
            f"{program} was not found (PATH={os.environ.get('PATH', '')}). It comes with the PostgreSQL client "
            "of the server's major version or newer: on Debian, apt-get install postgresql-client."
        )
    return path


def _run(command: list[str], env: dict[str, str], name: str) -> str:
    completed = subprocess.run(command, env=env, capture_output=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        message = completed.stderr.decode(errors="replace").strip() or f"exit status {completed.returncode}"
        raise BackupError(f"{name} failed: {message}")
    return completed.stdout.decode(errors="replace")


def _tail(handle: IO[bytes], limit: int = 2000) -> str:
    handle.seek(0)
    text = handle.read().decode(errors="replace").strip()
    return text[-limit:] or "no message"


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    """A private temporary file in ``path``'s directory (so a rename is atomic), removed on failure."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)
        # SQLite may leave a journal beside a file it was writing when it failed.
        Path(f"{temporary}-journal").unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
