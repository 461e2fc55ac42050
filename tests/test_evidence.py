"""Evidence bundles (`slang audit --evidence`), `slang verify`, and audits of `REV:PATH`.

One small estate: checkout's availability over 200 October requests, three of them 5xx. By hand:
197/200 = 98.5 % against `>= 99%` is breached, and the `below 99% => 10%` tier owes 10 % of the
1000.00 GBP fee, 100.00 GBP. Turning one 5xx into a 200 gives 198/200 = 99 %: met, no credit.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import slang
from slang.cli import main
from slang.evidence.environment import holiday_data, repository_state

AS_OF = "2026-11-15T00:00:00Z"
SCHEMAS = Path(slang.__file__).parent / "schemas"

POLICY = """\
catalogue "Acme" {
  service checkout { title "Checkout API" owner "payments-team" }
}

events requests from "requests" {
  time ts
  key  service
}

agreement checkout_retail {
  service   checkout
  customer  "Retail BU"
  status    agreed
  effective 2026-01-01 .. 2026-12-31
  timezone  "UTC"
  period    monthly
  fee       1000.00 GBP

  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99%
  }

  credit availability {
    below 99% => 10%
  }
}
"""


def requests_csv(bad: tuple[int, ...] = (10, 50, 150)) -> str:
    rows = ["ts,service,status"]
    for i in range(200):
        status = 500 if i in bad else 200
        when = f"2026-10-{1 + i % 28:02d}T{(i * 7) % 24:02d}:{i % 60:02d}:00Z"
        rows.append(f"{when},checkout,{status}")
    return "\n".join(rows) + "\n"


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "checkout.sla").write_text(POLICY, encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "requests.csv").write_text(requests_csv(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def audit(*extra: str, policies: str = "policies") -> tuple[int, str, str]:
    return run("audit", policies, "--data", "requests=data/requests.csv", "--period", "2026-10",
               "--as-of", AS_OF, *extra)


def verify(bundle: str, *extra: str) -> tuple[int, dict, str]:
    code, out, err = run("verify", bundle, "--format", "json", *extra)
    return code, (json.loads(out) if out else {}), err


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def failing(doc: dict) -> list[tuple[str, str]]:
    return [(f["kind"], f["subject"]) for f in doc["findings"] if f["failing"]]


# ------------------------------------------------------------------------------ the bundle


def test_bundle_holds_report_plan_policies_and_a_manifest(estate: Path) -> None:
    code, out, err = audit("--format", "json", "--evidence", "evidence/2026-10")
    assert code == 1  # breached
    bundle = estate / "evidence" / "2026-10"
    assert sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()) == [
        "manifest.json", "plan.json", "policies/policies/checkout.sla", "report.json",
        "report.txt",
    ]
    manifest_bytes = (bundle / "manifest.json").read_bytes()
    assert f"(manifest sha256 {sha(manifest_bytes)})" in err
    # The report in the bundle is the one printed, byte for byte; the policy is the file's bytes.
    assert (bundle / "report.json").read_text(encoding="utf-8") == out
    assert (bundle / "policies/policies/checkout.sla").read_text(encoding="utf-8") == POLICY
    report = json.loads(out)
    (result,) = report["results"]
    assert (result["good"], result["total"], result["measured"]) == (197, 200, 0.985)
    assert (result["status"], result["credit_amount"]) == ("breached", "100.00")
    text = (bundle / "report.txt").read_text(encoding="utf-8")
    assert "checkout_retail  availability  2026-10  98.5%     >= 99%  breached  10% = 100.00 GBP" \
        in text

    manifest = json.loads(manifest_bytes)
    schema = json.loads((SCHEMAS / "evidence-manifest.schema.json").read_text())
    jsonschema.validate(manifest, schema, cls=jsonschema.Draft202012Validator)
    assert manifest["command"] == [
        "slang", "audit", "policies", "--data", "requests=data/requests.csv", "--period",
        "2026-10", "--as-of", AS_OF, "--format", "json", "--evidence", "evidence/2026-10"]
    assert manifest["as_of"] == AS_OF
    assert manifest["selection"] == {"period": "2026-10", "from": None, "to": None,
                                     "include_drafts": False}
    assert manifest["versions"]["slang"] == slang.__version__
    assert manifest["versions"]["pyarrow"] == __import__("pyarrow").__version__
    assert manifest["policies"] == [{
        "path": "policies/checkout.sla", "sha256": sha(POLICY.encode()), "origin": "estate",
        "bundled": "policies/policies/checkout.sla"}]
    (data,) = manifest["data"]
    assert data["name"] == "requests" and data["binding"] == "data/requests.csv"
    assert data["sha256"] == sha((estate / "data" / "requests.csv").read_bytes())
    assert data["rows"] == 200
    assert manifest["plan_sha256"] == report["evidence"]["plan_sha256"]
    assert manifest["policy_repository"] is None  # tmp_path is not a git repository
    assert manifest["holiday_data"] == []
    assert manifest["summary"]["breached"] == 1
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert listed == {p: sha((bundle / p).read_bytes()) for p in
                      ("plan.json", "policies/policies/checkout.sla", "report.json",
                       "report.txt")}


def test_bundles_of_the_same_audit_are_byte_identical_but_for_the_command(estate: Path) -> None:
    audit("--evidence", "one")
    audit("--evidence", "two")
    one, two = estate / "one", estate / "two"
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for rel in files:
        if rel.name != "manifest.json":
            assert (one / rel).read_bytes() == (two / rel).read_bytes(), rel
    m1 = json.loads((one / "manifest.json").read_text())
    m2 = json.loads((two / "manifest.json").read_text())
    assert m1["command"][-1] == "one" and m2["command"][-1] == "two"
    m1["command"] = m2["command"] = None
    assert m1 == m2


def test_a_non_empty_evidence_directory_is_refused_before_the_audit(estate: Path) -> None:
    (estate / "old").mkdir()
    (estate / "old" / "manifest.json").write_text("{}")
    code, out, err = audit("--evidence", "old")
    assert code == 2 and out == ""
    assert "error[SLG0901]: --evidence directory `old` is not empty" in err
    assert (estate / "old" / "manifest.json").read_text() == "{}"  # untouched


def test_an_existing_empty_directory_is_used(estate: Path) -> None:
    (estate / "empty").mkdir()
    audit("--evidence", "empty")
    assert (estate / "empty" / "manifest.json").is_file()


# ------------------------------------------------------------------------------ verify


def test_verify_confirms_an_untouched_bundle(estate: Path) -> None:
    audit("--evidence", "ev")
    code, doc, _ = verify("ev")
    assert code == 0
    assert doc["identical"] is True and doc["results"] == 1 and doc["findings"] == []
    code, out, _ = run("verify", "ev")
    assert code == 0
    assert out == ("verified ev: identical (1 results as of 2026-11-15T00:00:00Z, report, text "
                   "and plan byte-identical)\n")


def test_verify_reports_a_changed_data_file_with_both_hashes(estate: Path) -> None:
    audit("--evidence", "ev")
    old = sha((estate / "data" / "requests.csv").read_bytes())
    fixed = requests_csv(bad=(10, 50))
    (estate / "data" / "requests.csv").write_text(fixed, encoding="utf-8")
    code, doc, _ = verify("ev")
    assert code == 1 and doc["identical"] is False
    kinds = failing(doc)
    assert ("data_changed", "requests") in kinds
    data = next(f for f in doc["findings"] if f["kind"] == "data_changed")
    assert data["old"]["sha256"] == old and data["new"]["sha256"] == sha(fixed.encode())
    assert (data["old"]["rows"], data["new"]["rows"]) == (200, 200)
    result = next(f for f in doc["findings"] if f["kind"] == "result_changed")
    assert result["subject"] == "checkout_retail.availability 2026-10"
    # 197/200 -> 198/200: 98.5 % breached (10 % = 100.00 GBP) -> 99 % met, no credit.
    assert result["old"]["measured"] == 0.985 and result["new"]["measured"] == 0.99
    assert result["old"]["good"] == 197 and result["new"]["good"] == 198
    assert (result["old"]["status"], result["new"]["status"]) == ("breached", "met")
    assert (result["old"]["credit_amount"], result["new"]["credit_amount"]) == ("100.00", "0.00")
    _, text, _ = run("verify", "ev")
    assert text.startswith("NOT verified ev: ")
    assert f"sha256 {old[:12]} -> {sha(fixed.encode())[:12]}, rows 200 -> 200" in text


def test_verify_reads_moved_data_from_data_options(estate: Path) -> None:
    audit("--evidence", "ev")
    shutil.move(estate / "data", estate / "archive")
    code, _, err = verify("ev")
    assert code == 2 and "SLG0604" in err  # the recorded path is gone: nothing to compare
    code, doc, _ = verify("ev", "--data", "requests=archive/requests.csv")
    assert code == 0, doc
    assert doc["identical"] is True


def test_verify_detects_an_edited_bundled_policy(estate: Path) -> None:
    audit("--evidence", "ev")
    policy = estate / "ev" / "policies" / "policies" / "checkout.sla"
    policy.write_text(POLICY.replace(">= 99%", ">= 98%"), encoding="utf-8")
    code, doc, _ = verify("ev")
    assert code == 1
    kinds = failing(doc)
    assert ("policy_changed", "policies/checkout.sla") in kinds
    assert ("plan_changed", "plan") in kinds
    result = next(f for f in doc["findings"] if f["kind"] == "result_changed")
    # 98.5 % against >= 98 %: met.
    assert result["new"]["target"] == 0.98 and result["new"]["status"] == "met"


def test_verify_detects_an_edited_report(estate: Path) -> None:
    audit("--evidence", "ev")
    path = estate / "ev" / "report.json"
    path.write_text(path.read_text().replace('"credit_amount": "100.00"',
                                             '"credit_amount": "10.00"'))
    code, doc, _ = verify("ev")
    assert code == 1
    assert ("bundle_file_changed", "report.json") in failing(doc)
    result = next(f for f in doc["findings"] if f["kind"] == "result_changed")
    assert result["old"] == {"credit_amount": "10.00"}
    assert result["new"] == {"credit_amount": "100.00"}


def test_verify_detects_an_edited_text_report_even_with_a_rewritten_manifest(
        estate: Path) -> None:
    audit("--evidence", "ev")
    text = estate / "ev" / "report.txt"
    edited = text.read_bytes().replace(b"100.00 GBP", b"10.00 GBP")
    text.write_bytes(edited)
    manifest = json.loads((estate / "ev" / "manifest.json").read_text())
    for f in manifest["files"]:
        if f["path"] == "report.txt":
            f["sha256"] = sha(edited)
    (estate / "ev" / "manifest.json").write_text(json.dumps(manifest))
    code, doc, _ = verify("ev")
    assert code == 1
    assert failing(doc) == [("report_changed", "report.txt")]


def test_verify_names_a_different_engine_version(estate: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    audit("--evidence", "ev")
    recorded = json.loads((estate / "ev" / "manifest.json").read_text())["versions"]["slang"]
    monkeypatch.setattr(slang, "__version__", "9.9.9")
    code, doc, _ = verify("ev")
    assert code == 1
    finding = next(f for f in doc["findings"] if f["kind"] == "version_changed")
    assert (finding["subject"], finding["old"], finding["new"]) == ("slang", recorded, "9.9.9")


def test_verify_notes_other_environment_differences_without_failing(estate: Path) -> None:
    audit("--evidence", "ev")
    path = estate / "ev" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["versions"]["python"] = "3.11.0"
    manifest["tz_database"]["version"] = "2020a"
    path.write_text(json.dumps(manifest))
    code, doc, _ = verify("ev")
    assert code == 0, doc
    notes = {f["subject"] for f in doc["findings"] if not f["failing"]}
    assert notes == {"python", "tz_database"}


def test_a_bundle_missing_a_file_is_damaged(estate: Path) -> None:
    audit("--evidence", "ev")
    (estate / "ev" / "plan.json").unlink()
    code, _, err = run("verify", "ev")
    assert code == 2
    assert "error[SLG0912]: `plan.json` of the bundle cannot be read" in err


def test_a_truncated_manifest_is_damaged(estate: Path) -> None:
    audit("--evidence", "ev")
    path = estate / "ev" / "manifest.json"
    path.write_bytes(path.read_bytes()[:100])
    code, _, err = run("verify", "ev", "--format", "json")
    assert code == 2
    assert json.loads(err)["diagnostics"][0]["code"] == "SLG0911"


def test_a_manifest_that_is_not_a_manifest_is_damaged(estate: Path) -> None:
    audit("--evidence", "ev")
    (estate / "ev" / "manifest.json").write_text('{"manifest_version": 1}')
    code, _, err = run("verify", "ev")
    assert code == 2 and "SLG0911" in err and "is a required property" in err


# ------------------------------------------------------------------------------ REV:PATH


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(estate: Path) -> Path:
    if shutil.which("git") is None:  # pragma: no cover - CI has git
        pytest.skip("git is not installed")
    git(estate, "init", "-q", "-b", "main")
    git(estate, "config", "user.email", "auditor@example.com")
    git(estate, "config", "user.name", "Auditor")
    git(estate, "add", "policies")
    git(estate, "commit", "-q", "-m", "agreement as signed: 99 %")
    git(estate, "tag", "v1")
    # The agreement was later amended: 98.5 % now meets it.
    (estate / "policies" / "checkout.sla").write_text(POLICY.replace(">= 99%", ">= 98.5%"),
                                                     encoding="utf-8")
    return estate


def test_audit_of_a_revision_uses_the_agreement_then_in_force(repo: Path) -> None:
    code, out, _ = audit("--format", "json", policies="v1:policies")
    assert code == 1
    (then,) = json.loads(out)["results"]
    assert (then["target"], then["status"]) == (0.99, "breached")
    code, out, _ = audit("--format", "json")
    assert code == 0
    (now,) = json.loads(out)["results"]
    assert (now["target"], now["status"]) == (0.985, "met")


def test_a_revision_bundle_records_the_commit_and_verifies(repo: Path) -> None:
    commit = git(repo, "rev-parse", "v1")
    audit("--evidence", "ev", policies="v1:policies")
    manifest = json.loads((repo / "ev" / "manifest.json").read_text())
    assert manifest["policy_repository"] == {"commit": commit, "dirty": False,
                                             "revision": "v1"}
    assert (repo / "ev" / "policies" / "policies" / "checkout.sla").read_text() == POLICY
    code, doc, _ = verify("ev")
    assert code == 0, doc


def test_a_working_tree_bundle_records_head_and_dirty(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    audit("--evidence", "dirty")
    manifest = json.loads((repo / "dirty" / "manifest.json").read_text())
    assert manifest["policy_repository"] == {"commit": head, "dirty": True, "revision": None}
    git(repo, "commit", "-q", "-am", "amendment: 98.5 %")
    audit("--evidence", "clean")
    manifest = json.loads((repo / "clean" / "manifest.json").read_text())
    assert manifest["policy_repository"]["dirty"] is False
    assert manifest["policy_repository"]["commit"] == git(repo, "rev-parse", "HEAD")


def test_a_revision_cannot_be_mixed_with_other_paths(repo: Path) -> None:
    code, _, _ = audit(policies="v1:policies")
    assert code == 1
    result = CliRunner().invoke(main, ["audit", "v1:policies", "policies", "--as-of", AS_OF])
    assert result.exit_code == 2
    assert "SLG0004" in result.stderr and "cannot be combined with other paths" in result.stderr


def test_an_unknown_revision_is_reported(repo: Path) -> None:
    code, _, err = audit(policies="nope:policies")
    assert code == 2 and "SLG0011" in err


# ------------------------------------------------------------------------------ environment


def test_holiday_data_is_collected_from_the_plan() -> None:
    plan = {"evaluations": [{"steps": [{"op": "time", "hours": {
        "holidays": {"package": "holidays", "version": "0.60", "regions": ["GB-ENG"]}}}]},
        {"steps": [{"holidays": [{"package": "holidays", "version": "0.60",
                                  "regions": ["GB-ENG"]}]}]}]}
    assert holiday_data(plan) == [{"package": "holidays", "version": "0.60",
                                   "regions": ["GB-ENG"]}]
    assert holiday_data({"scans": [], "evaluations": []}) == []


def test_repository_state_outside_git_is_none(tmp_path: Path) -> None:
    (tmp_path / "a.sla").write_text("")
    assert repository_state([str(tmp_path / "a.sla")]) is None


def test_verify_lists_the_changed_files_of_a_dataset(estate: Path) -> None:
    parts = estate / "data" / "parts"
    parts.mkdir()
    lines = requests_csv().splitlines(keepends=True)
    (parts / "a.csv").write_text("".join(lines[:101]), encoding="utf-8")
    (parts / "b.csv").write_text(lines[0] + "".join(lines[101:]), encoding="utf-8")
    run("audit", "policies", "--data", "requests=data/parts", "--period", "2026-10",
        "--as-of", AS_OF, "--evidence", "ev")
    manifest = json.loads((estate / "ev" / "manifest.json").read_text())
    (data,) = manifest["data"]
    assert data["rows"] == 200
    assert [f[0] for f in data["files"]] == ["a.csv", "b.csv"]
    # Request 150 (a 5xx) is in b.csv, the 51st line after its header: make it a 200.
    b = (parts / "b.csv").read_text().splitlines(keepends=True)
    assert b[51].rstrip().endswith(",500")
    b[51] = b[51].replace(",500", ",200")
    (parts / "b.csv").write_text("".join(b), encoding="utf-8")
    code, doc, _ = verify("ev")
    assert code == 1
    finding = next(f for f in doc["findings"] if f["kind"] == "data_changed")
    assert finding["message"].endswith("rows 200 -> 200; files changed: b.csv")
    old_files, new_files = dict(finding["old"]["files"]), dict(finding["new"]["files"])
    assert old_files["a.csv"] == new_files["a.csv"]
    assert new_files["b.csv"] == sha((parts / "b.csv").read_bytes())


def test_a_bundled_policy_that_no_longer_parses_is_a_difference(estate: Path) -> None:
    audit("--evidence", "ev")
    policy = estate / "ev" / "policies" / "policies" / "checkout.sla"
    policy.write_text(POLICY.replace("target    >= 99%", "target    >="), encoding="utf-8")
    code, doc, _ = verify("ev")
    assert code == 1
    assert failing(doc) == [("policy_changed", "policies/checkout.sla")]
    assert doc["problems"] and doc["problems"][0]["file"] == "policies/checkout.sla"
    _, text, _ = run("verify", "ev")
    assert "the audit could not be re-run:" in text


@pytest.fixture(scope="module")
def demo_bindings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert CliRunner().invoke(main, ["demo", str(out)]).exit_code == 0
    return out / "bindings.yaml"


def test_the_example_estate_round_trips(demo_bindings: Path, tmp_path: Path) -> None:
    """Many files, standard-library imports, several tables of every format."""
    bundle = tmp_path / "ev"
    result = CliRunner().invoke(main, [
        "audit", "policies/", "--bind", str(demo_bindings), "--period", "2026-10", "--as-of",
        AS_OF, "--evidence", str(bundle)])
    assert result.exit_code == 1, result.stderr
    manifest = json.loads((bundle / "manifest.json").read_text())
    bundled = {p["path"]: p["bundled"] for p in manifest["policies"]}
    assert bundled["std/calendars.sla"] == "stdlib/calendars.sla"
    assert bundled["policies/agreements/checkout.sla"] == \
        "policies/policies/agreements/checkout.sla"
    assert {d["name"] for d in manifest["data"]} >= {"edge_requests", "incidents"}
    assert manifest["summary"]["credits"] == [
        {"currency": "EUR", "amount": "0.00"}, {"currency": "GBP", "amount": "3000.00"},
        {"currency": "USD", "amount": "0.00"}]
    code, doc, _ = verify(str(bundle))
    assert code == 0, doc
    assert doc["results"] == 31


def test_test_files_are_not_part_of_the_audited_estate(estate: Path) -> None:
    (estate / "policies" / "checkout_test.sla").write_text("# tests of checkout\n",
                                                           encoding="utf-8")
    code, _, err = audit("--evidence", "ev")
    assert code == 1, err
    manifest = json.loads((estate / "ev" / "manifest.json").read_text())
    assert [p["path"] for p in manifest["policies"]] == ["policies/checkout.sla"]
    assert verify("ev")[0] == 0


def test_a_consistently_rewritten_bundle_is_caught_by_the_kept_manifest_hash(
        estate: Path) -> None:
    _, _, err = audit("--evidence", "ev")
    kept = err.split("manifest sha256 ")[1].split(")")[0]
    assert verify("ev", "--expect-manifest", kept)[0] == 0
    # Someone edits the data, re-runs the audit into a fresh bundle and swaps it in: it verifies
    # against the new data, but its manifest is not the one whose hash was kept.
    (estate / "data" / "requests.csv").write_text(requests_csv(bad=(10,)), encoding="utf-8")
    shutil.rmtree(estate / "ev")
    audit("--evidence", "ev")
    assert verify("ev")[0] == 0
    code, doc, _ = verify("ev", "--expect-manifest", kept)
    assert code == 1
    assert failing(doc) == [("manifest_changed", "manifest.json")]
    code, _, err = run("verify", "ev", "--expect-manifest", "nope")
    assert code == 2 and "SLG0004" in err


def test_a_bundle_without_policies_is_damaged(estate: Path) -> None:
    audit("--evidence", "ev")
    shutil.rmtree(estate / "ev" / "policies")
    code, _, err = run("verify", "ev")
    assert code == 2 and "SLG0912" in err
