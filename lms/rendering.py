"""The one Markdown pipeline: Python-Markdown, then the nh3 allowlist sanitizer.

Python-Markdown passes raw HTML through (``<script>``, ``onerror=``, ``javascript:`` links:
SECURITY.md, finding 2), so its output is never trusted: nh3 keeps only the tags,
attributes, classes and URL schemes listed here, whatever a content file contains.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import Treeprocessor

from lms.cache import LRUCache

MODULE_SCHEME = "module:"

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"align", "scope"},
    "td": {"align"},
    "ol": {"start"},
    **{f"h{level}": {"id"} for level in range(2, 7)},
}
ALLOWED_CLASSES = {
    "div": {"admonition", "note", "example", "tip", "warning", "important"},
    "p": {"admonition-title"},
}
URL_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class Rendered:
    html: str
    #: (level, anchor, title) of each section heading, for the table of contents.
    toc: tuple[tuple[int, str, str], ...]


class _ModuleLinks(Treeprocessor):
    """Turn ``[text](module:slug)`` into a link to that module's page."""

    def __init__(self, md: markdown.Markdown, link_base: str) -> None:
        super().__init__(md)
        self.link_base = link_base

    def run(self, root: ET.Element) -> None:
        for link in root.iter("a"):
            href = link.get("href", "")
            if href.startswith(MODULE_SCHEME):
                link.set("href", self.link_base + href[len(MODULE_SCHEME) :])


class _ModuleLinkExtension(Extension):
    def __init__(self, link_base: str) -> None:
        super().__init__()
        self.link_base = link_base

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_ModuleLinks(md, self.link_base), "module_links", 5)


def _slugify(value: str, separator: str) -> str:
    # Prefixed so a heading's anchor can never collide with the page's own element ids.
    return "s-" + slugify_unicode(value, separator)


def sanitize(html: str) -> str:
    """Keep only the allowed tags, attributes, classes and URL schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _flatten(tokens: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    entries = []
    for token in tokens:
        entries.append((int(token["level"]), str(token["id"]), str(token["name"])))
        entries.extend(_flatten(token.get("children", [])))
    return entries


def render_markdown(text: str, *, link_base: str = "/learn/modules/") -> Rendered:
    """Render trusted-format, untrusted-content Markdown to safe HTML and its contents."""
    md = markdown.Markdown(
        extensions=[
            "admonition",
            "fenced_code",
            "sane_lists",
            "tables",
            "toc",
            _ModuleLinkExtension(link_base),
        ],
        extension_configs={
            "toc": {"slugify": _slugify, "toc_depth": "2-3"},
            # Alignment as an attribute: a style="" attribute would break our CSP.
            "tables": {"use_align_attribute": True},
        },
        output_format="html",
    )
    body = md.convert(text)
    # Heading names come HTML-escaped from the toc extension; templates escape them again.
    toc = tuple((level, anchor, html.unescape(title)) for level, anchor, title in _flatten(md.toc_tokens) if level <= 3)
    return Rendered(sanitize(body), toc)


_RENDERED: LRUCache[Rendered] = LRUCache(512)


def render_cached(content_hash: str, text: str, *, link_base: str = "/learn/modules/") -> Rendered:
    """:func:`render_markdown`, done once per distinct content: the cache is keyed by the
    content's hash, so an edited file is rendered afresh and an unchanged one never again."""
    return _RENDERED.get_or_make((content_hash, link_base), lambda: render_markdown(text, link_base=link_base))
