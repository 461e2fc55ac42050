"""The evaluation plan: shared scans, operator pipelines, a stable hash, a published schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

import slang
from slang.plan.plan import build_plan, explain

SCHEMA = Path(slang.__file__).parent / "schemas" / "plan.schema.json"


def _estate(tmp_path: Path, agreements: int) -> slang.Model:
    lines = [
        'catalogue { service api { title "API" } }',
        'events requests from "requests" { key service units { latency_ms: ms } }',
        'intervals incidents from "incidents" { key service }',
    ]
    for i in range(agreements):
        lines.append(f"""
agreement a{i:03d} {{
  service api
  status  agreed
  period  monthly
  objective availability {{
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }}
  objective latency {{
    indicator p95(requests.latency_ms)
    target    <= 300ms
  }}
  objective uptime {{
    indicator uptime(incidents)
    target    >= 99.5%
  }}
}}""")
    (tmp_path / "estate.sla").write_text("\n".join(lines))
    model = slang.load([tmp_path / "estate.sla"])
    assert model.ok, model.diagnostics
    return model


def test_objectives_reading_one_source_share_one_scan(tmp_path: Path) -> None:
    plan = build_plan(_estate(tmp_path, 200))
    # 200 agreements x 3 objectives over two sources: two scans, 600 evaluations.
    assert [s.id for s in plan.scans] == ["incidents", "requests"]
    assert len(plan.evaluations) == 600
    requests = plan.scan("requests")
    assert requests.columns == ("latency_ms", "status")
    assert {e.scans[0] for e in plan.evaluations} == {"incidents", "requests"}


def test_pipeline_of_one_objective(tmp_path: Path) -> None:
    plan = build_plan(_estate(tmp_path, 1))
    availability = plan.evaluations[0].to_dict()
    assert availability["id"] == "a000.availability"
    assert [s["op"] for s in availability["steps"]] == [
        "read", "key", "time", "bucket", "aggregate", "compare"]
    assert availability["steps"][1] == {"op": "key", "column": "service", "equals": "api"}
    assert availability["steps"][3] == {"op": "bucket", "period": "monthly", "timezone": "UTC"}
    assert availability["steps"][4] == {"op": "aggregate", "fn": "ratio", "good": "status < 500"}
    assert availability["steps"][5] == {"op": "compare", "cmp": ">=", "target": 0.999}
    latency = plan.evaluations[1].to_dict()
    assert latency["steps"][4] == {"op": "aggregate", "fn": "percentile", "column": "latency_ms",
                                   "unit": "ms", "q": 95, "method": "nearest"}
    assert latency["steps"][5] == {"op": "compare", "cmp": "<=", "target": 300}


def test_plan_json_validates_against_the_published_schema(tmp_path: Path) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for model in (_estate(tmp_path, 2), slang.load(["policies"])):
        doc = json.loads(build_plan(model).to_json())
        jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)


def test_plan_hash_depends_on_meaning_not_layout(tmp_path: Path) -> None:
    a = build_plan(_estate(tmp_path, 3)).sha256
    text = (tmp_path / "estate.sla").read_text()
    (tmp_path / "estate.sla").write_text("# a comment\n" + text.replace("  status  agreed",
                                                                        "  status agreed"))
    assert build_plan(slang.load([tmp_path / "estate.sla"])).sha256 == a
    (tmp_path / "estate.sla").write_text(text.replace(">= 99.9%", ">= 99.95%", 1))
    assert build_plan(slang.load([tmp_path / "estate.sla"])).sha256 != a


def test_explain_is_readable(tmp_path: Path) -> None:
    text = explain(build_plan(_estate(tmp_path, 1)))
    assert text.splitlines()[0] == "scans (2):"
    assert '  requests: events table "requests" key=service columns=[latency_ms, status]' in text
    assert "  a000.uptime  [agreed]" in text
    assert "    aggregate fn=uptime, granularity_s=None" in text
