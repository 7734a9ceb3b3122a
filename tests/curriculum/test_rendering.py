"""Markdown from content files is sanitized: payloads are inert, the format still works."""

import pytest

from lms.rendering import render_markdown

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p onmouseover="alert(1)">hover</p>',
    '<form action="https://evil.example"><input name="x"></form>',
    '<object data="evil.swf"></object>',
    "<style>body{display:none}</style>",
    '<a href="vbscript:msgbox(1)">x</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<<script>alert(1)//<</script>",
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<details open ontoggle="alert(1)">x</details>',
    '<a href="&#106;avascript:alert(1)">x</a>',
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_payloads_are_inert(payload: str) -> None:
    html = render_markdown(f"Text before.\n\n{payload}\n\nText after.").html.lower()
    for dangerous in [
        "<script",
        "onerror",
        "onload",
        "onmouseover",
        "ontoggle",
        "javascript:",
        "vbscript:",
        "data:",
        "<iframe",
        "<object",
        "<form",
        "<style",
        "<svg",
        "<base",
        "<meta",
        "style=",
    ]:
        assert dangerous not in html, (payload, html)
    assert "text before." in html
    # An unclosed <style> swallows the rest of the file, safely; otherwise the text is kept.
    if "<style>" not in payload or "</style>" in payload:
        assert "text after." in html


def test_the_format_survives_sanitizing() -> None:
    rendered = render_markdown(
        "## Первый раздел\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n"
        '!!! example "Scenario: night duty"\n    Text.\n\n'
        "See [the other module](module:bystander-intervention) and [UN](https://undocs.org/S/RES/1325(2000)).\n\n"
        "### Detail\n\nMore.\n",
        link_base="/learn/modules/",
    )
    html = rendered.html
    assert '<div class="admonition example">' in html and '<p class="admonition-title">Scenario: night duty</p>' in html
    assert '<th align="left">a</th>' in html and '<td align="right">2</td>' in html
    assert 'href="/learn/modules/bystander-intervention"' in html
    assert 'href="https://undocs.org/S/RES/1325(2000)" rel="noopener noreferrer"' in html
    assert [(level, title) for level, _anchor, title in rendered.toc] == [(2, "Первый раздел"), (3, "Detail")]
    anchor = rendered.toc[0][1]
    assert anchor.startswith("s-") and f'id="{anchor}"' in html
