"""The curriculum as the running app sees it: loaded once, reloaded when a file changes.

Reading and validating every file takes tens of milliseconds, so it happens at most once
per change; in between, a request costs a dictionary lookup. At most once a second a
request looks at the files' sizes and times to notice edits.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from flask import Flask, current_app

from lms.curriculum.content import Curriculum, load_curriculum

CHECK_INTERVAL_SECONDS = 1.0


class ContentStore:
    def __init__(self, root: Path, logger: object = None) -> None:
        self.root = root
        self._logger = logger
        self._lock = threading.Lock()
        self._curriculum: Curriculum | None = None
        self._fingerprint: tuple[tuple[str, int, int], ...] = ()
        self._checked_at = 0.0
        #: Goes up each time the curriculum is reloaded: a key for caches of rendered pages.
        self.generation = 0

    def _current_fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        stamps = []
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                stat = path.stat()
                stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(stamps)

    def refresh(self) -> None:
        """Look at the files again on the next request (after writing content, e.g. in tests)."""
        self._checked_at = 0.0

    def get(self) -> Curriculum:
        """The current curriculum (valid modules only; problems are logged)."""
        now = time.monotonic()
        if self._curriculum is not None and now - self._checked_at < CHECK_INTERVAL_SECONDS:
            return self._curriculum
        with self._lock:
            if self._curriculum is not None and time.monotonic() - self._checked_at < CHECK_INTERVAL_SECONDS:
                return self._curriculum
            fingerprint = self._current_fingerprint() if self.root.is_dir() else ()
            if self._curriculum is None or fingerprint != self._fingerprint:
                curriculum = load_curriculum(self.root)
                for problem in curriculum.problems:
                    if self._logger is not None:
                        self._logger.warning("content problem: %s", problem)  # type: ignore[attr-defined]
                self._curriculum, self._fingerprint = curriculum, fingerprint
                self.generation += 1
            self._checked_at = time.monotonic()
            return self._curriculum


def init_app(app: Flask) -> None:
    app.extensions["lms.content"] = ContentStore(Path(app.config["CONTENT_DIR"]), app.logger)


def current_curriculum() -> Curriculum:
    return current_app.extensions["lms.content"].get()
