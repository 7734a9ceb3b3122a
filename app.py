"""The WSGI entry point: ``gunicorn app:app`` or ``flask --app app ...``."""

from lms import create_app

app = create_app()


@app.shell_context_processor
def _shell_context() -> dict[str, object]:
    from lms import db, models

    return {"db": db, "models": models, "session": db.get_session()}
