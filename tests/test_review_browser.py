"""The HTML review in a real browser: headless Chromium lays the page out, and the charts are
where the page says they are, drawn in their colours.

Two runs of Chromium over the same report at the same window width:

1. an instrumented copy (the report plus a script that records, in the DOM, where each chart was
   laid out; the copy drops the Content-Security-Policy, which would rightly block the script)
   is read back with `--dump-dom`: the rendered DOM must hold the SVG charts and their shapes;
2. the report itself, unmodified, is screenshotted at the page's full height, and each chart's
   rectangle in the screenshot must show the chart's colours (the red of a breach, the blue of
   the measured line, the green of the target's good side, the burn-down lines, the credit bar).

Needs Debian's `chromium` (CI's `.ci/run` installs it); skipped with a message without it.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from slang.cli import main
from slang.report.review_html import render_review_html
from slang.report.svg import COLOURS, PALETTE
from tests.review_support import demo_review

pytestmark = pytest.mark.slow

WIDTH = 1200
BROWSERS = ("chromium", "chromium-browser", "google-chrome")

PROBE = """<script>
(function () {
  var found = [];
  document.querySelectorAll("svg.chart").forEach(function (svg) {
    var r = svg.getBoundingClientRect();
    found.push({cls: svg.getAttribute("class"),
                title: svg.querySelector("title").textContent,
                x: r.left + window.scrollX, y: r.top + window.scrollY,
                w: r.width, h: r.height,
                circles: svg.querySelectorAll("circle").length,
                polylines: svg.querySelectorAll("polyline").length});
  });
  document.body.setAttribute("data-probe", JSON.stringify({
    height: document.documentElement.scrollHeight, charts: found}));
})();
</script>"""


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":  # CI installs it (.ci/run): missing there is a failure
        pytest.fail("Chromium is missing on CI: .ci/run should have installed it")
    pytest.skip("Chromium is not installed, so the HTML report cannot be checked in a browser: "
                "`apt-get install chromium` (CI's .ci/run installs it)")


def run_browser(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--force-device-scale-factor=1", "--no-first-run", "--disable-extensions",
               "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    review = demo_review(out / "bindings.yaml", date_from="2026-08-01", date_to="2026-11-30",
                         customer="Retail BU")
    path = out / "review.html"
    path.write_text(render_review_html(review), encoding="utf-8")
    return path


def layout(exe: str, page: Path, tmp: Path) -> dict:
    text = page.read_text(encoding="utf-8")
    probed = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*/>\n', "", text)
    probed = probed.replace("</body>", PROBE + "</body>")
    copy = tmp / "probed.html"
    copy.write_text(probed, encoding="utf-8")
    done = run_browser(exe, tmp / "profile-dom", f"--window-size={WIDTH},900", "--dump-dom",
                       copy.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    m = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert m, "the probe did not run: " + done.stdout[:500]
    return json.loads(html.unescape(m[1]))


def screenshot(exe: str, page: Path, tmp: Path, height: int) -> Image.Image:

    shot = tmp / "review.png"
    done = run_browser(exe, tmp / "profile-shot", f"--window-size={WIDTH},{height}",
                       f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    return Image.open(shot).convert("RGB")


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def count_near(image: Image.Image, box: tuple[int, int, int, int], colour: str,
               tolerance: int = 40) -> int:
    """Pixels inside `box` within `tolerance` of `colour` (antialiasing blends the edges)."""
    target = rgb(colour)
    region = image.crop(box)
    return sum(
        n for n, px in region.getcolors(maxcolors=region.width * region.height)
        if all(abs(a - b) <= tolerance for a, b in zip(px, target, strict=True))
    )


def box(chart: dict) -> tuple[int, int, int, int]:
    return (int(chart["x"]), int(chart["y"]), int(chart["x"] + chart["w"]),
            int(chart["y"] + chart["h"]))


def test_charts_render_in_headless_chromium(page: Path, tmp_path: Path) -> None:
    exe = browser()
    probe = layout(exe, page, tmp_path)
    charts = probe["charts"]
    # the rendered DOM holds every chart: 7 objectives, 2 burn-downs, the credits
    kinds = [c["cls"].split()[-1] for c in charts]
    assert kinds.count("measured-chart") == 7
    assert kinds.count("burn-chart") == 2
    assert kinds.count("bar-chart") == 1
    availability = next(c for c in charts
                        if c["title"].startswith("checkout_retail availability"))
    assert (availability["circles"], availability["polylines"]) == (4, 1)
    for c in charts:
        assert c["w"] > 300 and c["h"] > 40, c  # laid out, not collapsed

    image = screenshot(exe, page, tmp_path, int(probe["height"]) + 40)
    assert image.size[1] >= probe["height"]
    # not blank: the page has text, tables and charts
    colours = image.getcolors(maxcolors=image.width * image.height)
    assert colours is not None and len(colours) > 50

    area = box(availability)
    assert count_near(image, area, COLOURS["breached"], 30) > 30  # October's point
    assert count_near(image, area, COLOURS["met"], 30) > 60  # three met points
    assert count_near(image, area, COLOURS["measured"], 30) > 100  # the line
    assert count_near(image, area, COLOURS["good"], 8) > 5000  # the good side, shaded
    burn = next(c for c in charts if c["cls"].endswith("burn-chart")
                and "checkout_retail" in c["title"])
    area = box(burn)
    assert count_near(image, area, PALETTE[0], 30) > 50  # availability's line
    assert count_near(image, area, PALETTE[1], 30) > 50  # uptime's line
    assert count_near(image, area, COLOURS["breached"], 70) > 300  # the zero line
    (credits,) = [c for c in charts if c["cls"].endswith("bar-chart")]
    assert count_near(image, box(credits), COLOURS["credit"], 20) > 1000  # the GBP bar
    # a blank strip of the page has none of the chart colours
    blank = (WIDTH - 60, 0, WIDTH, 200)
    assert count_near(image, blank, COLOURS["measured"], 30) == 0


def test_the_content_security_policy_holds_in_the_browser(page: Path, tmp_path: Path) -> None:
    """The unmodified report blocks scripts: the same probe, injected with the policy kept,
    does not run."""
    exe = browser()
    text = page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>")
    copy = tmp_path / "with-csp.html"
    copy.write_text(text, encoding="utf-8")
    done = run_browser(exe, tmp_path / "profile", f"--window-size={WIDTH},900", "--dump-dom",
                       copy.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<svg" in done.stdout and "data-probe=\"" not in done.stdout
