"""The HTML service review: one self-contained, well-formed file whose charts say what the
audit says, with every policy string escaped; and `slang report` end to end (exit codes,
--output, determinism). The browser check is tests/test_review_browser.py."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from slang.cli import main
from slang.report.review_html import render_review_html
from slang.report.svg import COLOURS, nice_ticks, tick_text
from tests.review_support import (
    AS_OF,
    HOSTILE_CUSTOMER,
    HOSTILE_REASON,
    HOSTILE_TITLE,
    demo_review,
    write_hostile,
)

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def bindings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    return out / "bindings.yaml"


@pytest.fixture(scope="module")
def retail_html(bindings: Path) -> str:
    review = demo_review(bindings, date_from="2026-08-01", date_to="2026-11-30",
                         customer="Retail BU")
    return render_review_html(review)


def parse(html: str) -> ET.Element:
    """The page is well-formed XML as well as HTML: parse it strictly."""
    body = html.removeprefix("<!DOCTYPE html>\n")
    return ET.fromstring(body)


def charts(root: ET.Element, kind: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}svg") if kind in e.get("class", "").split()]


def report(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["report", *args])
    return result.exit_code, result.stdout, result.stderr


# ----------------------------------------------------------------------------- structure


def test_the_page_is_self_contained(retail_html: str) -> None:
    root = parse(retail_html)
    assert root.tag == "html"
    csp = [m for m in root.iter("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0].get("content", "").startswith("default-src 'none'")
    assert not list(root.iter("script"))
    assert not [e for e in root.iter() if e.tag in ("link", "img", "iframe", "object")]
    # no address to fetch: the only URL is the SVG namespace, which is a name, not a request
    assert set(re.findall(r"https?://[^\s\"'<>]+", retail_html)) == {
        "http://www.w3.org/2000/svg"}
    hrefs = [e.get("href") for e in root.iter() if e.get("href") is not None]
    assert hrefs and all(h.startswith("#") for h in hrefs)
    assert not [e for e in root.iter() if e.get("src") is not None]
    assert "@font-face" not in retail_html and "url(" not in retail_html
    style = next(root.iter("style")).text or ""
    assert "@media print" in style and "@page" in style


def test_one_measured_chart_per_objective_and_one_burn_down_per_agreement(retail_html: str
                                                                          ) -> None:
    root = parse(retail_html)
    # checkout_retail: 3 objectives, support_desk_retail: 4
    assert len(charts(root, "measured-chart")) == 7
    assert len(charts(root, "burn-chart")) == 2
    assert len(charts(root, "bar-chart")) == 1
    for svg in root.iter(f"{SVG}svg"):
        assert svg.find(f"{SVG}title") is not None  # every chart is labelled


def test_the_availability_chart_marks_october_breached(retail_html: str) -> None:
    root = parse(retail_html)
    chart = next(c for c in charts(root, "measured-chart")
                 if (c.findtext(f"{SVG}title") or "").startswith("checkout_retail availability"))
    points = [(c.findtext(f"{SVG}title"), c.get("class"), c.get("fill"))
              for c in chart.iter(f"{SVG}circle")]
    assert points == [
        ("2026-08: 99.967% (met)", "point met", COLOURS["met"]),
        ("2026-09: 99.978% (met)", "point met", COLOURS["met"]),
        ("2026-10: 99.716% (breached)", "point breached", COLOURS["breached"]),
        ("2026-11: 99.976% (met)", "point met", "#ffffff"),  # running: hollow
    ]
    # the breached point lies below the target line (SVG y grows downwards)
    target_y = float(next(e for e in chart.iter(f"{SVG}line")
                          if e.get("class") == "target-line").get("y1", "nan"))
    ys = [float(c.get("cy", "nan")) for c in chart.iter(f"{SVG}circle")]
    assert ys[2] > target_y > max(ys[0], ys[1], ys[3])
    assert len(list(chart.iter(f"{SVG}polyline"))) == 1


def test_the_burn_down_shows_the_running_month(retail_html: str) -> None:
    root = parse(retail_html)
    chart = next(c for c in charts(root, "burn-chart")
                 if "checkout_retail" in (c.findtext(f"{SVG}title") or ""))
    assert "2026-11" in (chart.findtext(f"{SVG}title") or "")
    lines = [p.findtext(f"{SVG}title") for p in chart.iter(f"{SVG}polyline")]
    assert lines == ["availability: 75.8% left", "uptime: 100% left"]
    assert [e.get("class") for e in chart.iter(f"{SVG}line") if e.get("class")] == [
        "ideal-line", "spent-line", "as-of-line"]


def test_the_credits_chart_has_one_bar_per_customer_and_currency(bindings: Path) -> None:
    review = demo_review(bindings, period="2026-10")
    root = parse(render_review_html(review))
    (chart,) = charts(root, "bar-chart")
    bars = [r.findtext(f"{SVG}title") for r in chart.iter(f"{SVG}rect")
            if r.get("class") == "bar"]
    assert bars == ["Kestrel Retail Ireland Ltd: 0.00 EUR", "Retail BU: 3000.00 GBP",
                    "US Logistics: 0.00 USD", "US marketplace partners: 0.00 USD"]


def test_tick_values_are_round() -> None:
    assert nice_ticks(0.997, 1.0) == [0.997, 0.998, 0.999, 1.0]
    assert nice_ticks(0, 300) == [0, 100, 200, 300]
    assert tick_text(0.9985, 0.0005, True) == "99.85%"
    assert tick_text(250, 50, False) == "250"


# ------------------------------------------------------------------------------ escaping


def test_hostile_strings_stay_text_in_html(tmp_path: Path) -> None:
    policy, data = write_hostile(tmp_path)
    code, html, err = report(str(policy), "--data", f"requests={data}", "--period", "2026-10",
                             "--as-of", AS_OF, "--format", "html")
    assert code == 0, err
    root = parse(html)  # the hostile strings did not break the markup
    assert not list(root.iter("script")) and not list(root.iter("img"))
    assert not list(root.iter("b")) or all(e.text != "bold" for e in root.iter("b"))
    texts = "".join(root.itertext())
    assert HOSTILE_TITLE in texts  # shown to the reader as written
    assert HOSTILE_CUSTOMER in texts
    assert HOSTILE_REASON in texts
    assert "</title><script>x()</script>" in texts
    h2 = [("".join(e.itertext())) for e in root.iter("h2")]
    assert f"{HOSTILE_TITLE} for {HOSTILE_CUSTOMER} hostile" in h2
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in html
    # inside the SVG too: the credits bar's label
    (bar_chart,) = charts(root, "bar-chart")
    assert HOSTILE_CUSTOMER in "".join(bar_chart.itertext())


# ----------------------------------------------------------------------- the command line


def test_report_writes_html_to_a_file(bindings: Path, tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    code, stdout, err = report("policies/", "--bind", str(bindings), "--period", "2026-10",
                               "--customer", "Retail BU", "--as-of", AS_OF, "--format", "html",
                               "--output", str(out))
    assert code == 0, err  # a breach is reported, not a failure, unless --fail-on says so
    assert stdout == ""
    root = parse(out.read_text(encoding="utf-8"))
    assert root.findtext("head/title") == "Service review: Retail BU"


def test_report_is_byte_identical_run_to_run(bindings: Path) -> None:
    args = ("policies/", "--bind", str(bindings), "--period", "2026-10", "--as-of", AS_OF,
            "--customer", "Retail BU", "--format", "html")
    first, second = report(*args), report(*args)
    assert first[0] == 0 and first == second


def test_fail_on_levels(bindings: Path) -> None:
    common = ("policies/", "--bind", str(bindings), "--as-of", AS_OF)
    retail = (*common, "--period", "2026-10", "--customer", "Retail BU")
    assert report(*retail, "--fail-on", "breach")[0] == 1
    assert report(*retail, "--fail-on", "breach", "--no-fail")[0] == 0
    partners = (*common, "--period", "2026-11", "--customer", "US marketplace partners")
    assert report(*partners)[0] == 0
    assert report(*partners, "--fail-on", "breach")[0] == 0
    assert report(*partners, "--fail-on", "at_risk")[0] == 1


def test_unusable_input_exits_2(bindings: Path, tmp_path: Path) -> None:
    common = ("policies/", "--bind", str(bindings), "--period", "2026-10")
    code, out, err = report(*common, "--customer", "Retail")
    assert code == 2 and out == ""
    assert 'error[SLG0710]: no audited agreement has customer "Retail"' in err
    assert '"Retail BU"' in err
    code, _, err = report(*common, "--as-of", "yesterday")
    assert code == 2 and "error[SLG0004]" in err
    code, _, err = report("policies/", "--period", "2026-10", "--as-of", AS_OF)
    assert code == 2 and "error[SLG0609]" in err  # no data bound
    code, _, err = report(*common, "--format", "pdf")
    assert code == 2
    broken = tmp_path / "broken.sla"
    broken.write_text("agreement {\n", encoding="utf-8")
    code, _, err = report(str(broken), "--data", "x=y")
    assert code == 2 and "error[SLG01" in err


def test_a_period_without_data(tmp_path: Path) -> None:
    """September has no request at all: `no data`, a gap in the line, no credit."""
    policy, data = write_hostile(tmp_path)
    args = (str(policy), "--data", f"requests={data}", "--from", "2026-09-01", "--to",
            "2026-10-31", "--as-of", AS_OF)
    code, markdown, err = report(*args)
    assert code == 0, err
    assert "| 2026-09 | no data | no data | - | 0 | - | - |" in markdown
    assert "| 2026-10 | 98% | **breached** | 200% | 1 h | 10% = 100.00 GBP | - |" in markdown
    assert report(*args, "--fail-on", "no_data")[0] == 1
    code, page, err = report(*args, "--format", "html")
    assert code == 0, err
    (chart,) = charts(parse(page), "measured-chart")
    assert [c.findtext(f"{SVG}title") for c in chart.iter(f"{SVG}circle")] == [
        "2026-10: 98% (breached)"]
    assert "no data" in "".join(chart.itertext())
    assert not list(chart.iter(f"{SVG}polyline"))  # one point: no line to draw
