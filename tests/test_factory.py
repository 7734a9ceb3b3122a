"""The application factory and its configuration from the environment."""

from pathlib import Path

import pytest

from lms import ConfigError, create_app
from lms.config import ROOT, build_config


def test_development_secret_is_generated_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    first = build_config({"INSTANCE_DIR": tmp_path})["SECRET_KEY"]
    second = build_config({"INSTANCE_DIR": tmp_path})["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_url_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_DATABASE_URL", "postgresql+psycopg://lms@db.example/lms")
    assert build_config({"INSTANCE_DIR": tmp_path})["DATABASE_URL"] == "postgresql+psycopg://lms@db.example/lms"
    monkeypatch.delenv("LMS_DATABASE_URL")
    assert build_config({"INSTANCE_DIR": tmp_path})["DATABASE_URL"] == f"sqlite:///{tmp_path / 'lms.sqlite3'}"


def test_production_refuses_to_start_without_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="LMS_SECRET_KEY"):
        create_app({"INSTANCE_DIR": tmp_path})
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_a_short_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "too-short")
    with pytest.raises(ConfigError, match="at least 32"):
        build_config({"INSTANCE_DIR": tmp_path})


def test_production_refuses_insecure_cookies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("LMS_PUBLIC_URL", "https://lms.example.org")
    monkeypatch.setenv("LMS_SESSION_COOKIE_SECURE", "0")
    with pytest.raises(ConfigError, match="secure cookies"):
        build_config({"INSTANCE_DIR": tmp_path})


def test_production_cookie_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("LMS_PUBLIC_URL", "https://lms.example.org")
    monkeypatch.delenv("LMS_SESSION_COOKIE_SECURE", raising=False)
    config = build_config({"INSTANCE_DIR": tmp_path})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_COOKIE_NAME"].startswith("__Host-")


def test_production_refuses_a_database_not_at_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("LMS_PUBLIC_URL", "https://lms.example.org")
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    with pytest.raises(ConfigError, match="lms init"):
        create_app({"INSTANCE_DIR": tmp_path})


def test_production_brings_a_new_database_up_to_date_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's first steps in production: `lms init` on an empty database, then serve."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "LMS_ENV": "production",
        "LMS_SECRET_KEY": "s" * 48,
        "LMS_PUBLIC_URL": "https://lms.example.org",
        "LMS_DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
    }
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    done = subprocess.run(
        [*flask, "lms", "init"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    for name in ("LMS_ENV", "LMS_SECRET_KEY", "LMS_PUBLIC_URL", "LMS_DATABASE_URL"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    assert create_app({"INSTANCE_DIR": tmp_path}).config["LMS_ENV"] == "production"  # now it serves


def test_production_requires_the_public_https_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The address is printed in certificates' QR codes: it must be the real, secure one.
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "s" * 48)
    for value in ("", "http://lms.example.org"):
        monkeypatch.setenv("LMS_PUBLIC_URL", value)
        with pytest.raises(ConfigError, match="LMS_PUBLIC_URL"):
            build_config({"INSTANCE_DIR": tmp_path})


def test_unknown_environment_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_ENV", "staging")
    with pytest.raises(ConfigError):
        build_config({"INSTANCE_DIR": tmp_path})


def test_app_py_exposes_an_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    import importlib

    import app as entry_point

    module = importlib.reload(entry_point)
    assert module.app.name == "lms"
