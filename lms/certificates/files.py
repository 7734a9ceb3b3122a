"""One person's certificate as a PDF, kept on disk once rendered.

A revision's PDF never changes (what it prints is a snapshot), so it is rendered once
(~0.1 s) and served from ``instance/certificate-pdfs`` afterwards. The file name carries
a fingerprint of the templates and the public address: changing either renders anew.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import current_app

from lms.certificates import document
from lms.certificates.batch import pdf_filename, write_atomically
from lms.config import ROOT
from lms.models import Certificate, CertificateRevision


@cache
def _template_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "templates" / "certificates" / "pdf").iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_path(revision: CertificateRevision) -> Path:
    key = hashlib.sha256(f"{_template_fingerprint()}|{current_app.config['PUBLIC_URL']}".encode()).hexdigest()[:16]
    return Path(current_app.config["INSTANCE_DIR"]) / "certificate-pdfs" / f"{revision.id}-{key}.pdf"


def certificate_pdf(certificate: Certificate, revision: CertificateRevision | None = None) -> tuple[bytes, str]:
    """The PDF of ``revision`` (the current one by default) and its file name."""
    revision = revision or certificate.current
    path = _cache_path(revision)
    if path.exists():
        return path.read_bytes(), pdf_filename(certificate)
    pdf = document.render_certificates([(certificate, revision)], title=certificate.serial)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, pdf)
    return pdf, pdf_filename(certificate)
