"""gunicorn settings: ``gunicorn -c python:lms.gunicorn_conf app:app``.

Sync workers (threaded ones served our CPU-bound pages no faster, with a 2.6x worse p99
on 2 cores); the app is loaded once in the master and
forked. WeasyPrint's import (about a second) happens there too, so no worker pays it on
its first certificate; each worker builds its own font cache on first use.
"""

preload_app = True
worker_class = "sync"
accesslog = "-"


def when_ready(server):  # type: ignore[no-untyped-def]
    import weasyprint  # noqa: F401
