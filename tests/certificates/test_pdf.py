"""The certificate PDF: pages, names in the region's scripts as real text, PDF/A, and a
renderer that cannot be made to read anything but the app's static files."""

from __future__ import annotations

import io

import pypdf
import pytest
import sqlalchemy as sa

from lms import db
from lms.certificates import document
from lms.certificates.names import printed_names
from lms.models import Certificate, Role
from tests.certificates.helpers import NAMES, completed_course, pdf_pages, trainees
from tests.conftest import login_as


def _issue_all(app, make_user, session, names, language, **person):
    coordinator = make_user("coordinator@example.org", roles={Role.COORDINATOR: None}, country="REG")
    trainer = make_user("trainer@example.org", roles={Role.TRAINER: None})
    people = trainees(make_user, names, **person)
    course = completed_course(session, trainer, people)
    client = app.test_client()
    login_as(client, coordinator)
    client.post(f"/certificates/courses/{course.id}/issue", data={"scope": "all", "language": language})
    session.rollback()
    return client, course


def test_one_page_per_certificate_with_names_extracting_exactly(app, make_user, session) -> None:
    _client, course = _issue_all(app, make_user, session, NAMES, "sr-Cyrl")
    with app.app_context():
        certificates = list(db.get_session().scalars(sa.select(Certificate).where(Certificate.course_id == course.id)))
        pdf = document.render_certificates([(c, None) for c in certificates], title="Batch")
    pages = pdf_pages(pdf)
    assert len(pages) == len(NAMES)
    text = "\n".join(pages)
    # Serbian Cyrillic certificate: names recorded in Cyrillic print as recorded, Latin
    # Serbian names are transliterated, the Albanian name stays as it is; the Latin form
    # follows for the English text.
    for expected in [
        "Ђорђе Јовановић",
        "Đorđe Jovanović",
        "Љубица Стојановска",
        "Ljiljana Đukanović",
        "Љиљана Ђукановић",
        "Arbër Çela",
    ]:
        assert expected in text
    assert "Јовановић" in pages[next(i for i, page in enumerate(pages) if "Ђорђе" in page)]
    assert all(certificate.serial in text for certificate in certificates)
    assert course.title in text


def test_the_pdf_is_pdf_a_with_the_fonts_embedded(app, make_user, session) -> None:
    client, _course = _issue_all(app, make_user, session, ["Arbër Çela"], "sq")
    certificate = session.scalar(sa.select(Certificate))
    response = client.get(f"/certificates/{certificate.id}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "pdfaid:part" in metadata and "3" in metadata.split("pdfaid:part")[1][:8]
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    assert fonts
    for font in fonts:
        # The shipped fonts (static/fonts), subset and embedded: nothing from the system.
        assert "+Certificate-" in str(font["/BaseFont"])
        described = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(described["/FontDescriptor"].get_object())
    assert "Arbër Çela" in pdf_pages(response.data)[0]


@pytest.mark.parametrize(
    ("name", "alt", "language", "country", "expected"),
    [
        ("Љубица Стојановска", None, "mk", "MK", ("Љубица Стојановска", "Ljubica Stojanovska")),
        ("Ljubica Stojanovska", None, "mk", "MK", ("Љубица Стојановска", "Ljubica Stojanovska")),
        ("Gjorgji Kjosevski", None, "mk", "MK", ("Ѓорѓи Ќосевски", "Gjorgji Kjosevski")),
        ("Ђорђе Јовановић", "Đorđe Jovanović", None, "RS", ("Đorđe Jovanović", None)),
        ("Ђорђе Јовановић", None, "cnr", "ME", ("Đorđe Jovanović", None)),
        ("Arbër Çela", None, "sr-Cyrl", "RS", ("Arbër Çela", None)),
        ("Ivan Horvat", "Иван Хорват", "sr-Cyrl", "BA", ("Иван Хорват", "Ivan Horvat")),
    ],
)
def test_the_name_is_printed_in_the_script_of_the_certificate(name, alt, language, country, expected) -> None:
    assert printed_names(name, alt, language, country) == expected


def test_the_renderer_reads_only_static_files() -> None:
    for url in (
        "file:///etc/passwd",
        f"{document.STATIC_BASE_URL}../lms/config.py",
        f"{document.STATIC_BASE_URL}fonts/../../instance/secret_key",
        f"{document.STATIC_BASE_URL}%2e%2e/app.py",
        "http://127.0.0.1:5000/healthz",
        "https://example.org/logo.png",
        "data:text/plain,hello",
    ):
        with pytest.raises(ValueError, match="refused"):
            document.read_static(url)
    assert document.read_static(f"{document.STATIC_BASE_URL}fonts/DejaVuSans.ttf")[:4] == b"\x00\x01\x00\x00"


def test_markup_in_names_is_printed_as_text_and_fetches_nothing(app, make_user, session, caplog) -> None:
    hostile = '<img src="file:///etc/passwd"> Ana'
    _issue_all(app, make_user, session, [hostile], "")
    with app.app_context():
        certificate = db.get_session().scalar(sa.select(Certificate))
        html = document.certificates_html([document.printed(certificate)], title="t")
        assert "&lt;img" in html and '<img src="file:///etc/passwd">' not in html
        pdf = document.html_to_pdf(html)
        assert hostile in pdf_pages(pdf)[0]
        # Even markup that reached WeasyPrint could not read a local file.
        leaked = document.html_to_pdf(
            '<p>x</p><img src="file:///etc/passwd"><link rel=stylesheet href="http://example.org/a.css">'
        )
    assert "root:" not in "".join(pdf_pages(leaked))
    assert any("refused" in record.getMessage() for record in caplog.records)
