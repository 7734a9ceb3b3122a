"""Certificates as PDF: HTML and CSS templates (``templates/certificates/pdf/``) rendered
by WeasyPrint.

Rendering is split in two so that batches can run in parallel processes: the HTML is
built in the app (Jinja, translations, QR codes), and :func:`html_to_pdf` turns HTML into
PDF with nothing but WeasyPrint. WeasyPrint may only read the app's own static files
(the fonts): :class:`StaticFilesOnly` refuses every other address, so nothing in a
certificate can make the server read a local file or reach the network.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import segno
from flask import render_template

from lms.certificates import codes
from lms.certificates.eligibility import local_date
from lms.certificates.labels import printed_texts
from lms.certificates.names import printed_names
from lms.config import ROOT
from lms.models import Certificate, CertificateRevision
from lms.web import public_url

if TYPE_CHECKING:
    from weasyprint.text.fonts import FontConfiguration

log = logging.getLogger(__name__)

STATIC_DIR = (ROOT / "static").resolve()
#: The base address of the certificate HTML: relative URLs in it name static files.
STATIC_BASE_URL = STATIC_DIR.as_uri() + "/"
PDF_VARIANT = "pdf/a-3b"


class RefusedURL(ValueError):
    pass


def _weasyprint() -> Any:
    # Imported on first use (about a second); `lms.certificates.document.preload()` does it
    # at start-up in servers and workers, before they fork.
    import weasyprint

    return weasyprint


@cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesOnly(URLFetcher):
        """Serves files under ``static/`` and refuses everything else."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            return URLFetcherResponse(url, body=read_static(url), headers={"Content-Type": _mime(url)})

    return StaticFilesOnly


def _mime(url: str) -> str:
    return mimetypes.guess_type(url)[0] or "application/octet-stream"


def read_static(url: str) -> bytes:
    """The bytes of a static file named by a ``file:`` URL under ``static/``; refuses any
    other URL (other schemes, other paths, ``..`` and symbolic links out of ``static/``)."""
    if not url.startswith(STATIC_BASE_URL) or "?" in url or "#" in url or "%" in url:
        log.warning("certificate rendering refused to fetch %r", url[:200])
        raise RefusedURL(f"refused: {url[:200]}")
    path = Path(url.removeprefix("file://")).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        log.warning("certificate rendering refused to fetch %r", url[:200])
        raise RefusedURL(f"refused: {url[:200]}")
    return path.read_bytes()


def url_fetcher() -> Any:
    return _fetcher_class()(allowed_protocols=("file",), allow_redirects=False)


_font_config: FontConfiguration | None = None


def _fonts() -> FontConfiguration:
    # One font configuration per process: the certificate fonts are loaded once.
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    return _font_config


def fast_subsetting() -> bool:
    """Whether HarfBuzz's subsetter (Debian's libharfbuzz-subset0) is there: without it
    WeasyPrint falls back to fontTools and renders about 6 times slower."""
    _weasyprint()
    from weasyprint.text.ffi import harfbuzz_subset

    return harfbuzz_subset is not None


def preload() -> None:
    """Import WeasyPrint and warm its fonts (servers and workers call this at start-up)."""
    if not fast_subsetting():
        log.warning("libharfbuzz-subset0 is missing: certificates render about 6 times slower (apt-get install it)")
    html_to_pdf(_WARM_UP_HTML)


_WARM_UP_HTML = (
    '<html lang="en"><head><title>warm-up</title><style>@font-face { font-family: "Certificate Serif";'
    ' src: url("fonts/DejaVuSerif.ttf"); }</style></head><body style="font-family: \'Certificate Serif\'">'
    "Ђ đ ë</body></html>"
)


def html_to_pdf(html: str, *, variant: str | None = PDF_VARIANT) -> bytes:
    """PDF bytes for certificate HTML. Needs no app: runs in batch worker processes."""
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=html, base_url=STATIC_BASE_URL, url_fetcher=url_fetcher())
    return document.write_pdf(font_config=_fonts(), pdf_variant=variant)


# --- From certificates to HTML ---------------------------------------------------------------


@dataclass(frozen=True)
class PrintedCertificate:
    serial: str
    code: str
    url: str
    qr_svg: str
    name: str
    name_latin: str | None
    title: str
    revision: int
    valid_until: date | None
    issuers: list[str]
    signatories: list[dict[str, str]]
    modules: list[dict[str, Any]]
    language: str | None
    english: dict[str, str]
    local: dict[str, str] | None


def verification_url(code: str) -> str:
    return public_url("verify.certificate", code=codes.display_code(code))


def qr_svg(url: str) -> str:
    # One <path> (segno's SVG output), not a <rect> per module: about 3x faster to render.
    return segno.make(url, error="m").svg_inline(omitsize=True, border=4, dark="#000")


def printed(certificate: Certificate, revision: CertificateRevision | None = None) -> PrintedCertificate:
    revision = revision or certificate.current
    language = certificate.language
    name, name_latin = printed_names(
        revision.holder_name, revision.holder_name_alt, language, certificate.holder.country.code
    )
    context = {
        "start_date": certificate.start_date,
        "end_date": certificate.end_date,
        "minutes": certificate.minutes,
        "issued_on": local_date(certificate.issued_at),
        "valid_until": certificate.valid_until,
        "sex": certificate.holder.sex,
    }
    url = verification_url(revision.code)
    return PrintedCertificate(
        serial=certificate.serial,
        code=codes.display_code(revision.code),
        url=url,
        qr_svg=qr_svg(url),
        name=name,
        name_latin=name_latin,
        title=certificate.title,
        revision=revision.number,
        valid_until=certificate.valid_until,
        issuers=json.loads(certificate.issuers),
        signatories=json.loads(certificate.signatories),
        modules=json.loads(certificate.modules),
        language=language,
        english=printed_texts("en", certificate.kind, context),
        local=printed_texts(language, certificate.kind, context) if language else None,
    )


def certificates_html(items: Sequence[PrintedCertificate], *, title: str) -> str:
    """One HTML document with a page per certificate."""
    return render_template("certificates/pdf/document.html", certificates=items, title=title)


def render_certificates(certificates: Sequence[tuple[Certificate, CertificateRevision | None]], *, title: str) -> bytes:
    return html_to_pdf(certificates_html([printed(cert, rev) for cert, rev in certificates], title=title))
