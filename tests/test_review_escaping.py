"""Properties of escaping: whatever a policy string holds, the HTML stays well-formed and shows
the string as text, and Markdown shows it as typed (never as markup)."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

from hypothesis import example, given, settings
from hypothesis import strategies as st

from slang.report.catalogue import (
    AgreementEntry,
    CatalogueView,
    ObjectiveEntry,
    ServiceEntry,
    render_catalogue_markdown,
)
from slang.report.catalogue_html import render_catalogue_html
from slang.report.review_markdown import md
from slang.report.svg import esc

# Any text but carriage returns (XML reads \r\n as \n) and surrogates (not text).
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
               max_size=40)
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def shown(text: str) -> str:
    return XML_ILLEGAL.sub("", text)


@given(TEXT)
@example("<script>&amp;\x01")
def test_escaped_text_is_the_text(text: str) -> None:
    element = ET.fromstring(f"<p>{esc(text)}</p>")
    assert (element.text or "") == shown(text)


@given(TEXT.filter(lambda t: not re.search(r"[\t\n]", t)))
def test_escaped_attribute_is_the_text(text: str) -> None:
    element = ET.fromstring(f'<a title="{esc(text)}"/>')
    assert element.get("title") == shown(text)


@given(TEXT)
def test_markdown_text_reads_as_typed(text: str) -> None:
    out = md(text)
    assert "<" not in out and ">" not in out and "\n" not in out
    unescaped = html.unescape(re.sub(r"\\([\\`*_\[\]|~])", r"\1", out))
    assert unescaped == " ".join(text.split())


def _view(title: str, owner: str, customer: str) -> CatalogueView:
    objective = ObjectiveEntry("availability", f"ratio(x where y == {customer})", ">=",
                               0.999, "%", "≥ 99.9%")
    agreement = AgreementEntry("a", customer, owner, "agreed", "2026-01-01", None, "monthly",
                               "1.00 GBP", (objective,))
    first = ServiceEntry("s", title, owner, "gold", "s", title, False, ("t",), (),
                         (agreement,), (), 0)
    second = ServiceEntry("t", owner, title, None, "t-key", None, True, (), ("s",), (),
                          ("a",), 1)
    return CatalogueView((title,), (first, second))


@settings(max_examples=60, deadline=None)
@given(TEXT, TEXT, TEXT)
@example("<script>alert(1)</script>", '"quoted" & <b>', "</svg>\x00\x1f")
def test_catalogue_html_is_well_formed_whatever_the_strings(title: str, owner: str,
                                                            customer: str) -> None:
    page = render_catalogue_html(_view(title, owner, customer))
    root = ET.fromstring(page.removeprefix("<!DOCTYPE html>\n"))
    assert not list(root.iter("script"))
    text = "".join(root.itertext())
    for value in (title, owner, customer):
        assert shown(value) in text


@settings(max_examples=60, deadline=None)
@given(TEXT, TEXT, TEXT)
@example("<script>alert(1)</script>", "<b>x</b> & y", "x`<y>``z`")
def test_catalogue_markdown_has_no_markup_from_the_strings(title: str, owner: str,
                                                           customer: str) -> None:
    out = render_catalogue_markdown(_view(title, owner, customer))
    mermaid = out.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert '"' not in mermaid.replace('["', "").replace('"]', "").replace('("', "").replace(
        '")', "")
    # outside code spans (where Markdown shows everything literally) no `<` or `>` is left
    prose = re.sub(r"(`+) .*? \1|(`+)[^`].*?\2", "", out.replace(mermaid, ""))
    assert "<" not in prose and ">" not in prose.replace("≥", "")
