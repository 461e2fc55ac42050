"""`slang catalogue`: the example estate's services, dependencies and agreements in JSON
(validated against its schema), Markdown (Mermaid) and HTML (inline SVG graph); escaping,
a deterministic layout whose edges all point down, and exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import slang
from slang.cli import main
from slang.report.catalogue import (
    build_catalogue,
    dependency_layers,
    mermaid_label,
    render_catalogue_markdown,
)
from slang.report.catalogue_html import render_catalogue_html
from slang.report.svg import NODE_H, NODE_W
from slang.semantics import model as m
from tests.review_support import HOSTILE_TITLE, REPO, write_hostile

SCHEMA = REPO / "slang" / "schemas" / "catalogue.schema.json"
SVG = "{http://www.w3.org/2000/svg}"
WITHOUT = ["fraud_screening", "identity", "inventory", "notifications", "pricing",
           "product_catalogue", "search"]


def catalogue(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["catalogue", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def doc() -> dict:
    code, out, err = catalogue("policies/", "--format", "json")
    assert code == 0, err
    return json.loads(out)


def service(doc: dict, name: str) -> dict:
    return next(s for s in doc["services"] if s["name"] == name)


def test_json_follows_the_schema(doc: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    assert doc["titles"] == ["Kestrel Retail"]
    assert len(doc["services"]) == 14
    assert [s["name"] for s in doc["services"]] == sorted(s["name"] for s in doc["services"])


def test_services_dependencies_and_agreements(doc: dict) -> None:
    checkout = service(doc, "checkout")
    assert (checkout["title"], checkout["owner"], checkout["tier"], checkout["internal"]) == (
        "Checkout API", "payments-team", "gold", False)
    assert checkout["depends_on"] == ["identity", "inventory", "payments", "pricing"]
    assert checkout["dependents"] == ["storefront"]
    assert [(a["name"], a["status"], a["customer"]) for a in checkout["agreements"]] == [
        ("checkout_retail", "agreed", "Retail BU"),
        ("checkout_retail_2025", "retired", "Retail BU")]
    current = checkout["agreements"][0]
    assert current["effective"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert (current["period"], current["fee"]) == ("monthly", "12000.00 GBP")
    assert [(o["name"], o["op"], o["target"], o["unit"], o["target_text"])
            for o in current["objectives"]] == [
        ("availability", ">=", 0.999, "%", "≥ 99.9%"),
        ("latency", "<=", 300, "ms", "≤ 300 ms"),
        ("uptime", ">=", 0.9995, "%", "≥ 99.95%")]
    assert current["objectives"][0]["indicator"] == "ratio(requests where status < 500)"
    payments = service(doc, "payments")
    assert payments["key"] == "payments-v2" and payments["internal"]
    assert [a["status"] for a in payments["agreements"]] == ["proposed"]


def test_services_without_agreements_and_what_they_underpin(doc: dict) -> None:
    assert doc["without_agreements"] == WITHOUT
    # fraud screening: payments -> checkout -> storefront, each with its agreements
    assert service(doc, "fraud_screening")["underpins"] == [
        "checkout_retail", "checkout_retail_2025", "payments_for_checkout",
        "storefront_experience", "storefront_ie"]
    assert service(doc, "storefront")["underpins"] == []


def test_layers_put_every_dependency_below_its_dependents(doc: dict) -> None:
    layer = {s["name"]: s["layer"] for s in doc["services"]}
    assert [layer[x] for x in ("storefront", "checkout", "payments", "fraud_screening",
                               "data_platform")] == [0, 1, 2, 3, 4]
    assert len(doc["edges"]) == 20
    for e in doc["edges"]:
        assert layer[e["to"]] > layer[e["from"]], e


def test_layers_end_on_a_cycle() -> None:
    """A cycle is an error `slang check` reports; the layout must still end."""
    def svc(name: str, *deps: str) -> m.Service:
        return m.Service(name, name, None, None, None, deps, name, None, False)

    services = {"a": svc("a", "b"), "b": svc("b", "c"), "c": svc("c", "a"), "d": svc("d")}
    layers = dependency_layers(services)
    assert set(layers) == {"a", "b", "c", "d"} and layers["d"] == 0


def test_markdown_has_a_mermaid_graph() -> None:
    code, out, err = catalogue("policies/")
    assert code == 0, err
    block = out.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block.startswith("graph TD\n")
    assert '  s_checkout["Checkout API"]' in block
    assert '  s_payments("Payments")' in block  # internal: rounded
    assert "  s_storefront --> s_checkout" in block
    assert block.count("-->") == 20
    assert "- `search` (Search): internal; underpins" in out
    assert "| availability | `ratio(requests where status < 500)` | ≥ 99.9% |" in out


def test_html_graph_is_laid_out_without_overlaps() -> None:
    code, html, err = catalogue("policies/", "--format", "html")
    assert code == 0, err
    root = ET.fromstring(html.removeprefix("<!DOCTYPE html>\n"))
    assert not list(root.iter("script"))
    (graph,) = [e for e in root.iter(f"{SVG}svg") if "dependency-graph" in e.get("class", "")]
    nodes = {g.get("id", "").removeprefix("node-"): g.find(f"{SVG}rect")
             for g in graph.iter(f"{SVG}g")}
    assert len(nodes) == 14
    boxes = {k: (float(r.get("x", "nan")), float(r.get("y", "nan"))) for k, r in nodes.items()}
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (ax, ay), (bx, by) = boxes[a], boxes[b]
            assert abs(ax - bx) >= NODE_W or abs(ay - by) >= NODE_H, (a, b)
    edges = [e for e in graph.iter(f"{SVG}polyline") if e.get("class") == "edge"]
    assert len(edges) == 20
    for e in edges:
        points = [tuple(map(float, xy.split(","))) for xy in e.get("points", "").split()]
        ys = [y for _, y in points]
        assert ys == sorted(ys) and ys[-1] > ys[0]  # every edge points down
        # no edge runs through a box: sample each segment strictly between its ends
        for (x1, y1), (x2, y2) in pairwise(points):
            for k in range(1, 20):
                x, y = x1 + (x2 - x1) * k / 20, y1 + (y2 - y1) * k / 20
                for name, (bx, by) in boxes.items():
                    inside = bx + 1 < x < bx + NODE_W - 1 and by + 1 < y < by + NODE_H - 1
                    assert not inside, (e.findtext(f"{SVG}title"), name)
    # storefront -> product_catalogue spans two rows: it bends through the row between
    long_edge = next(e for e in edges
                     if e.findtext(f"{SVG}title") == "storefront depends on product_catalogue")
    assert len(long_edge.get("points", "").split()) == 6
    # covered services are outlined solid, the others dashed
    assert nodes["checkout"].get("stroke-dasharray") is None
    assert nodes["search"].get("stroke-dasharray") == "4 3"


def test_catalogue_is_byte_identical_run_to_run() -> None:
    for fmt in ("markdown", "html", "json"):
        assert catalogue("policies/", "--format", fmt) == catalogue("policies/", "--format", fmt)


def test_hostile_strings_are_escaped(tmp_path: Path) -> None:
    policy, _ = write_hostile(tmp_path)
    view = build_catalogue(slang.load([str(policy)]))
    html = render_catalogue_html(view)
    root = ET.fromstring(html.removeprefix("<!DOCTYPE html>\n"))
    assert not list(root.iter("script"))
    assert HOSTILE_TITLE in "".join(root.itertext())
    markdown = render_catalogue_markdown(view)
    assert "<script" not in markdown
    assert 's_svc["#lt;script#gt;alert(#quot;title#quot;)#lt;/script#gt;"]' in markdown
    assert mermaid_label('a "b" <c> & d') == "a #quot;b#quot; #lt;c#gt; #amp; d"


def test_invalid_policies_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sla"
    broken.write_text("catalogue {\n", encoding="utf-8")
    code, out, err = catalogue(str(broken))
    assert code == 2 and out == "" and "error[SLG01" in err
    code, out, err = catalogue(str(broken), "--format", "json")
    assert code == 2 and json.loads(err)["diagnostics"][0]["code"].startswith("SLG01")
    code, _, err = catalogue(str(tmp_path / "missing"))
    assert code == 2 and "error[SLG0002]" in err


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "catalogue.json"
    code, stdout, _ = catalogue("policies/", "--format", "json", "--output", str(out))
    assert code == 0 and stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["without_agreements"] == WITHOUT
