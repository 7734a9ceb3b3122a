"""Files sent to the browser: always as attachments with a safe name, never cached."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response


def attachment(body: bytes, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    """A response carrying ``body`` as a download named ``filename`` (RFC 6266).

    ``inline`` is for calendar feeds, which calendar programs read in place.
    """
    ascii_name = "".join(char if char.isascii() and (char.isalnum() or char in "._-") else "_" for char in filename)
    disposition = "inline" if inline else "attachment"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
