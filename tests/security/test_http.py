"""Headers on every response, CSRF, escaping of user text, error pages."""

import sqlalchemy as sa

from lms.access import PUBLIC, policy
from lms.models import Role, User
from tests.conftest import login_as


def test_security_headers_on_pages_errors_and_static_files(client, make_user) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    login_as(client, admin)
    for url in ["/", "/people/", "/does-not-exist", "/people/99999", "/static/css/app.css"]:
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, url
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"] == "same-origin", url
        response.close()


def test_pages_with_personal_data_are_not_cached(client, make_user) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    login_as(client, admin)
    for url in ["/", "/people/", f"/people/{admin.id}", "/account/", "/audit/"]:
        assert client.get(url).headers["Cache-Control"] == "no-store", url


def test_templates_have_no_inline_script_or_style(app) -> None:
    from pathlib import Path

    for path in Path(app.template_folder).rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "<script>" not in text and " onclick=" not in text and " style=" not in text, path


def test_post_without_a_valid_csrf_token_is_refused_and_writes_nothing(client, make_user, session) -> None:
    admin = make_user("admin@example.org", roles=[Role.ADMIN])
    login_as(client, admin)
    data = {"full_name": "Nova Osoba", "email": "nova@example.org", "sex": "female", "country_id": "1"}
    assert client.post("/people/new", data=data, csrf=False).status_code == 400
    forged = client.post("/people/new", data={**data, "csrf_token": "forged"}, csrf=False)
    assert forged.status_code == 400
    assert "reload the page" in forged.get_data(as_text=True)
    assert session.scalar(sa.select(User).where(User.email == "nova@example.org")) is None


def test_user_text_is_escaped_everywhere_it_is_shown(client, make_user) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    admin = make_user("admin@example.org", roles=[Role.ADMIN], name="Amra Hadžić")
    victim = make_user(name=payload, alt_name=payload)
    login_as(client, admin)
    for url in ["/people/", f"/people/{victim.id}", f"/people/{victim.id}/edit", "/audit/"]:
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
    assert "&lt;script&gt;" in client.get(f"/people/{victim.id}").get_data(as_text=True)


def test_error_pages_are_in_the_layout_and_hide_details(app, client) -> None:
    @app.get("/boom")
    @policy(PUBLIC)
    def boom() -> str:
        raise RuntimeError("secret internals")

    not_found = client.get("/nowhere")
    assert not_found.status_code == 404
    assert 'id="main"' in not_found.get_data(as_text=True)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in html and "Traceback" not in html
    assert "reference" in html


def test_oversized_request_is_refused(app, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/auth/login", data={"email": "a@example.org", "password": "x" * 5000})
    assert response.status_code == 413
