"""`slang export openslo` on the example estate: valid documents, and warnings for the rest."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

import slang
from slang.cli import main as cli_main
from slang.interop.common import schema_errors
from slang.interop.openslo_export import export_openslo

REPO = Path(__file__).resolve().parent.parent


def test_the_estate_exports_valid_openslo() -> None:
    model = slang.load([str(REPO / "policies")])
    result = export_openslo(model)
    assert result.documents
    for doc in result.documents:
        assert schema_errors(doc) == []
    assert [d for d in yaml.safe_load_all(result.text) if d] == result.documents
    slo = next(d for d in result.documents if d["kind"] == "SLO"
               and d["metadata"]["name"] == "checkout-retail")
    spec = slo["spec"]
    assert spec["service"] == "checkout"
    assert spec["timeWindow"] == [{"duration": "1M", "isRolling": False, "calendar": {
        "startTime": "2026-01-01 00:00:00", "timeZone": "Europe/London"}}]
    (availability,) = [o for o in spec["objectives"] if o["target"] == 0.999]
    metric = availability["indicator"]["spec"]["ratioMetric"]
    assert metric["good"]["metricSource"]["spec"]["query"] == (
        'edge_requests_total{service="checkout", code!~"5.."}')
    codes = {(d.code, d.message.split(":")[0]) for d in result.diagnostics}
    assert ("SLG1004", "agreement `checkout_retail`") in codes  # fee, credits, ...


def test_the_command_writes_documents(tmp_path: Path) -> None:
    out = tmp_path / "openslo.yaml"
    res = CliRunner().invoke(cli_main, ["export", "openslo", str(REPO / "policies"), "-o",
                                        str(out)])
    assert res.exit_code == 0, res.output
    docs = [d for d in yaml.safe_load_all(out.read_text(encoding="utf-8")) if d]
    kinds = {d["kind"] for d in docs}
    assert kinds == {"Service", "SLO"}
    assert "SLG1004" in res.stderr
