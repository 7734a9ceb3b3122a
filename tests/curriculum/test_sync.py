"""The registry keeps ids and history through edits, removals and broken files."""

import sqlalchemy as sa

from lms.curriculum.content import load_curriculum
from lms.curriculum.sync import sync_curriculum
from lms.models import Module, ModuleCompletion, ModuleRevision, Role, Track
from tests.conftest import login_as
from tests.content_fixture import module
from tests.curriculum.helpers import RIGHT, submit_check


def _sync(session, content_dir):
    report = sync_curriculum(session, load_curriculum(content_dir), content_dir)
    session.commit()
    return report


def test_an_edit_keeps_the_id_and_adds_a_revision(app, client, make_user, session, content_dir) -> None:
    learner = make_user(roles=[Role.TRAINEE])
    login_as(client, learner)
    submit_check(client, "second-module", RIGHT)
    session.rollback()
    module_id = session.scalar(sa.select(Module.id).where(Module.slug == "second-module"))
    path = content_dir / "basics" / "second-module.md"
    path.write_text(module("second-module", "basics", version=2, extra="A new paragraph on bystanders."))
    report = _sync(session, content_dir)
    assert report.revised == ["second-module"]
    row = session.scalar(sa.select(Module).where(Module.slug == "second-module"))
    assert row.id == module_id and row.version == 2 and row.revision == 2
    revisions = session.scalars(
        sa.select(ModuleRevision.version).where(ModuleRevision.module_id == module_id).order_by(ModuleRevision.number)
    ).all()
    assert revisions == [1, 2]
    # The completion keeps the revision it was earned on.
    completion = session.scalar(sa.select(ModuleCompletion))
    assert completion.module_id == module_id and completion.revision.version == 1


def test_a_removed_module_is_archived_and_its_history_kept(app, client, make_user, session, content_dir) -> None:
    learner = make_user(roles=[Role.TRAINEE])
    login_as(client, learner)
    submit_check(client, "third-module", RIGHT)
    (content_dir / "advanced" / "third-module.md").unlink()
    (content_dir / "advanced" / "_track.yml").unlink()
    (content_dir / "advanced").rmdir()
    report = _sync(session, content_dir)
    assert report.archived == ["third-module"]
    row = session.scalar(sa.select(Module).where(Module.slug == "third-module"))
    assert row.archived_at is not None
    assert session.scalar(sa.select(Track.archived_at).where(Track.slug == "advanced")) is not None
    assert session.scalar(sa.select(sa.func.count()).select_from(ModuleCompletion)) == 1
    app.extensions["lms.content"].refresh()
    assert client.get("/learn/modules/third-module").status_code == 404
    assert "Third Module" not in client.get("/learn/").get_data(as_text=True)


def test_a_module_that_comes_back_is_restored(session, content_dir) -> None:
    saved = (content_dir / "advanced" / "third-module.md").read_text()
    (content_dir / "advanced" / "third-module.md").unlink()
    _sync(session, content_dir)
    (content_dir / "advanced" / "third-module.md").write_text(saved)
    report = _sync(session, content_dir)
    assert report.restored == ["third-module"]
    assert session.scalar(sa.select(Module.archived_at).where(Module.slug == "third-module")) is None


def test_a_broken_file_is_neither_archived_nor_takes_the_site_down(
    app, client, make_user, session, content_dir
) -> None:
    (content_dir / "basics" / "second-module.md").write_text("---\ntitle: [broken\n---\n")
    report = _sync(session, content_dir)
    assert report.archived == []
    login_as(client, make_user(roles=[Role.TRAINEE]))
    app.extensions["lms.content"].refresh()
    broken = client.get("/learn/modules/second-module")
    assert broken.status_code == 503
    assert "temporarily unavailable" in broken.get_data(as_text=True)
    assert client.get("/learn/modules/first-module").status_code == 200
    assert client.get("/learn/").status_code == 200
    assert client.get("/").status_code == 200


def test_sync_command_reports_changes(runner, content_dir) -> None:
    (content_dir / "advanced" / "third-module.md").write_text(
        module("third-module", "advanced", version=3, extra="Changed.")
    )
    result = runner.invoke(args=["lms", "content", "sync"])
    assert result.exit_code == 0, result.output
    assert "1 revised (third-module)" in result.output
