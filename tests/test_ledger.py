"""The audit ledger: `slang audit --ledger`, `slang ledger verify` and `slang ledger show`.

The estate is test_evidence's: October's availability is 197/200 = 98.5 % against `>= 99%`,
breached, 10 % of 1000.00 GBP = 100.00 GBP owed. Tampering is tested on ledgers of synthetic
entries (hypothesis picks the entry and the kind of change) and on a real one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slang.cli import main
from slang.evidence.ledger import (
    GENESIS,
    append_entries,
    canonical,
    check_chain,
    entry_hash,
    verify_ledger,
)
from tests.test_evidence import AS_OF, POLICY, requests_csv

REPO = Path(__file__).resolve().parent.parent


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


def audit(*extra: str) -> tuple[int, str, str]:
    return run("audit", "policies", "--data", "requests=data/requests.csv", "--period",
               "2026-10", "--as-of", AS_OF, *extra)


def entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------------------------ appending


def test_an_audit_appends_its_results_and_credit_total(estate: Path) -> None:
    code, _, err = audit("--ledger", "ledger.jsonl")
    assert code == 1
    first, total = entries(estate / "ledger.jsonl")
    assert (first["seq"], first["prev"], first["supersedes"]) == (1, GENESIS, None)
    assert first["key"] == "result/checkout_retail/availability/2026-10"
    assert (first["good"], first["total"], first["measured"]) == (197, 200, 0.985)
    assert (first["status"], first["credit_percent"], first["credit_amount"]) == (
        "breached", 10, "100.00")
    assert first["audit"]["as_of"] == AS_OF
    assert first["audit"]["evidence"] is None
    assert total["key"] == "credits/checkout_retail/2026-10"
    assert (total["credits_before_cap"], total["cap_adjustment"], total["credit_amount"]) == (
        "100.00", "0", "100.00")
    assert total["prev"] == first["hash"] and total["seq"] == 2
    assert err.strip().endswith(f"appended entries 1-2 (0 superseding earlier ones), head "
                                f"{total['hash']}")
    # The hash is SHA-256 of the canonical JSON without the hash; each line is canonical.
    for line, entry in zip((estate / "ledger.jsonl").read_text().splitlines(),
                           (first, total), strict=True):
        assert line == canonical(entry)
        assert entry["hash"] == entry_hash(entry)


def test_re_auditing_supersedes_and_overwrites_nothing(estate: Path) -> None:
    audit("--ledger", "ledger.jsonl")
    before = (estate / "ledger.jsonl").read_bytes()
    (estate / "data" / "requests.csv").write_text(requests_csv(bad=(10, 50)), encoding="utf-8")
    audit("--ledger", "ledger.jsonl")
    after = (estate / "ledger.jsonl").read_bytes()
    assert after.startswith(before)  # appended, nothing rewritten
    old, old_total, new, new_total = entries(estate / "ledger.jsonl")
    assert new["supersedes"] == old["hash"] and new_total["supersedes"] == old_total["hash"]
    assert (new["status"], new["measured"], new["credit_amount"]) == ("met", 0.99, "0.00")
    assert new_total["credit_amount"] == "0.00"

    code, out, _ = run("ledger", "show", "ledger.jsonl", "--format", "json")
    assert code == 0
    shown = json.loads(out)
    assert [e["seq"] for e in shown["entries"]] == [3, 4]  # current entries only
    assert shown["credit_totals"] == [{"agreement": "checkout_retail", "currency": "GBP",
                                       "amount": "0.00", "periods": 1}]
    code, out, _ = run("ledger", "show", "ledger.jsonl", "--format", "json", "--all")
    # Every entry is shown, but the superseded 100.00 GBP total does not count again.
    assert len(json.loads(out)["entries"]) == 4
    assert json.loads(out)["credit_totals"][0]["amount"] == "0.00"
    code, out, _ = run("ledger", "show", "ledger.jsonl", "--all")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"ledger ledger.jsonl: 4 entries, head {new_total['hash']}"
    row1 = next(line for line in lines if line.startswith("1 "))
    assert "98.5%" in row1 and "breached" in row1 and "superseded by 3" in row1
    row3 = next(line for line in lines if line.startswith("3 "))
    assert "99%" in row3 and "met" in row3 and "supersedes 1" in row3
    assert lines[-1] == "4 entries shown"
    assert "  checkout_retail: 0.00 GBP (1 period)" in lines


def test_evidence_and_ledger_together_link_the_bundle(estate: Path) -> None:
    _, _, err = audit("--ledger", "ledger.jsonl", "--evidence", "ev")
    manifest_sha = err.split("manifest sha256 ")[1].split(")")[0]
    assert all(e["audit"]["evidence"] == manifest_sha for e in entries(estate / "ledger.jsonl"))


def test_show_filters_by_agreement_and_period_start(estate: Path) -> None:
    audit("--ledger", "ledger.jsonl")
    run("audit", "policies", "--data", "requests=data/requests.csv", "--period", "2026-11",
        "--as-of", AS_OF, "--ledger", "ledger.jsonl")
    code, out, _ = run("ledger", "show", "ledger.jsonl", "--format", "json", "--from",
                       "2026-11-01", "--to", "2026-11-30")
    assert code == 0
    assert {e["period"] for e in json.loads(out)["entries"]} == {"2026-11"}
    code, out, _ = run("ledger", "show", "ledger.jsonl", "--format", "json", "--agreement",
                       "nobody")
    assert json.loads(out)["entries"] == []
    code, out, _ = run("ledger", "show", "ledger.jsonl", "--format", "markdown")
    assert out.startswith("# Audit ledger `ledger.jsonl`")
    assert "| 1 | checkout_retail | availability | 2026-10 | 98.5% | >= 99% | breached |" in out


def test_verify_prints_the_head_and_accepts_an_earlier_kept_head(estate: Path) -> None:
    audit("--ledger", "ledger.jsonl")
    first_head = entries(estate / "ledger.jsonl")[-1]["hash"]
    audit("--ledger", "ledger.jsonl")
    head = entries(estate / "ledger.jsonl")[-1]["hash"]
    code, out, _ = run("ledger", "verify", "ledger.jsonl")
    assert code == 0
    assert out == f"ledger ledger.jsonl: 4 entries, chain intact, head {head}\n"
    code, out, _ = run("ledger", "verify", "ledger.jsonl", "--expect-head", head)
    assert code == 0 and "the head is the expected one" in out
    code, out, _ = run("ledger", "verify", "ledger.jsonl", "--expect-head", first_head)
    assert code == 0 and "the expected head is line 2; 2 entries were appended after it" in out


def test_a_broken_ledger_is_neither_appended_to_nor_shown(estate: Path) -> None:
    audit("--ledger", "ledger.jsonl")
    path = estate / "ledger.jsonl"
    path.write_text(path.read_text().replace('"100.00"', '"10.00"', 1))
    before = path.read_bytes()
    code, out, err = audit("--ledger", "ledger.jsonl")
    assert code == 2 and out == ""  # refused before the audit ran
    assert "error[SLG0921]: ledger `ledger.jsonl` does not verify: line 1: its content does " \
           "not match its hash" in err
    assert path.read_bytes() == before
    code, _, err = run("ledger", "show", "ledger.jsonl")
    assert code == 2 and "SLG0921" in err
    code, out, _ = run("ledger", "verify", "ledger.jsonl")
    assert code == 1
    assert out.startswith("ledger ledger.jsonl does NOT verify: line 1: its content does not "
                          "match its hash: the entry was edited")


def test_expect_head_must_be_a_hash(estate: Path) -> None:
    audit("--ledger", "ledger.jsonl")
    code, _, err = run("ledger", "verify", "ledger.jsonl", "--expect-head", "abc")
    assert code == 2 and "SLG0004" in err


def test_an_empty_ledger_verifies_with_the_genesis_head(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    check = verify_ledger(path, GENESIS)
    assert check.ok and check.head == GENESIS and check.entries == []


# ------------------------------------------------------------------------------ tampering

N = 8


def body(i: int) -> dict:
    return {"kind": "result", "key": f"result/a/o/2026-{i % 3 + 1:02d}", "agreement": "a",
            "objective": "o", "period": f"2026-{i % 3 + 1:02d}", "measured": 0.99 + i / 1000,
            "status": "met", "credit_amount": f"{i}.00"}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("ledger") / "l.jsonl"
    for i in range(N):
        append_entries(path, [body(i)])
    data = path.read_bytes()
    check = check_chain(data, "l.jsonl")
    assert check.problem is None and len(check.entries) == N
    # Later entries for the same key supersede earlier ones: 0 -> 3 -> 6, 1 -> 4 -> 7, ...
    assert check.entries[3]["supersedes"] == check.entries[0]["hash"]
    return data


def lines_of(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]


def join(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def problem_line(data: bytes) -> int | None:
    problem = check_chain(data, "l.jsonl").problem
    return None if problem is None else problem.line


SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(k=st.integers(0, N - 1), value=st.sampled_from(["1.00", "999.99", "0.00 "]))
def test_an_edited_entry_is_named(pristine: bytes, k: int, value: str) -> None:
    lines = lines_of(pristine)
    entry = json.loads(lines[k])
    if entry["credit_amount"] == value:
        value = "12345.00"
    entry["credit_amount"] = value
    lines[k] = canonical(entry).encode()
    assert problem_line(join(lines)) == k + 1


@SETTINGS
@given(k=st.integers(0, N - 1))
def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(pristine: bytes,
                                                                       k: int) -> None:
    lines = lines_of(pristine)
    entry = json.loads(lines[k])
    entry["status"] = "breached"
    entry["hash"] = entry_hash(entry)
    lines[k] = canonical(entry).encode()
    tampered = join(lines)
    if k < N - 1:
        assert problem_line(tampered) == k + 2
    else:  # the last entry: only the kept head shows it
        assert problem_line(tampered) is None
        old_head = json.loads(lines_of(pristine)[-1])["hash"]
        check = check_chain(tampered, "l.jsonl")
        assert check.head != old_head


@SETTINGS
@given(k=st.integers(0, N - 1))
def test_whitespace_edits_are_caught(pristine: bytes, k: int) -> None:
    lines = lines_of(pristine)
    lines[k] = json.dumps(json.loads(lines[k]), sort_keys=True).encode()  # ", " and ": "
    assert problem_line(join(lines)) == k + 1


@SETTINGS
@given(k=st.integers(0, N - 1))
def test_a_removed_entry_is_named(pristine: bytes, k: int, tmp_path_factory) -> None:
    lines = lines_of(pristine)
    head = json.loads(lines[-1])["hash"]
    del lines[k]
    tampered = join(lines)
    if k < N - 1:
        assert problem_line(tampered) == k + 1
    else:
        assert problem_line(tampered) is None  # a cut at the end keeps a valid chain...
        path = tmp_path_factory.mktemp("cut") / "l.jsonl"
        path.write_bytes(tampered)
        check = verify_ledger(path, head)
        assert not check.ok and check.expected_at is None  # ...that the kept head exposes


@SETTINGS
@given(k=st.integers(0, N), source=st.integers(0, N - 1))
def test_an_inserted_entry_is_named(pristine: bytes, k: int, source: int) -> None:
    lines = lines_of(pristine)
    lines.insert(k, lines[source])  # a copy of a genuine entry
    # A copy placed just before its original is the same as one placed just after it: the
    # second of the two identical lines is the one that does not fit.
    assert problem_line(join(lines)) == (k + 2 if source == k else k + 1)


@SETTINGS
@given(k=st.integers(1, N))
def test_a_forged_entry_with_a_correct_link_is_caught_after_it(pristine: bytes, k: int) -> None:
    """A forger who knows the format writes a well-formed entry at position k; the genuine
    entry that follows no longer fits (its seq), unless the forgery is at the end."""
    lines = lines_of(pristine)
    prev = json.loads(lines[k - 1])["hash"]
    forged = {**body(99), "ledger_version": 1, "seq": k + 1, "prev": prev, "supersedes": None}
    forged["hash"] = entry_hash(forged)
    lines.insert(k, canonical(forged).encode())
    tampered = join(lines)
    if k < N:
        assert problem_line(tampered) == k + 2
    else:
        assert problem_line(tampered) is None  # appended at the end: a new head
        assert check_chain(tampered, "l").head != json.loads(lines_of(pristine)[-1])["hash"]


@SETTINGS
@given(data=st.data())
def test_reordered_entries_are_named(pristine: bytes, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, N - 2))
    j = data.draw(st.integers(i + 1, N - 1))
    lines = lines_of(pristine)
    lines[i], lines[j] = lines[j], lines[i]
    assert problem_line(join(lines)) == i + 1


def test_a_ledger_rewritten_from_start_to_end_is_caught_by_the_kept_head(
        pristine: bytes, tmp_path: Path) -> None:
    head = json.loads(lines_of(pristine)[-1])["hash"]
    path = tmp_path / "rewritten.jsonl"
    for i in range(N):
        b = body(i)
        if i == 2:
            b["credit_amount"] = "0.00"
        append_entries(path, [b])
    assert verify_ledger(path).ok  # a self-consistent forgery...
    check = verify_ledger(path, head)
    assert not check.ok  # ...but not the ledger whose head was kept
    code, out, _ = run("ledger", "verify", str(path), "--expect-head", head)
    assert code == 1 and "the expected head" in out and "is not in it" in out


def test_a_cut_last_line_is_named(pristine: bytes) -> None:
    assert problem_line(pristine[:-10]) == N


# ------------------------------------------------------------------------------ concurrency

WRITER = """
import sys
from slang.evidence.ledger import append_entries
path, who = sys.argv[1], sys.argv[2]
for i in range(25):
    append_entries(path, [{"kind": "result", "key": f"result/{who}/o/{i}", "n": i},
                          {"kind": "credits", "key": f"credits/{who}/{i}", "n": i}])
"""


def test_concurrent_appends_from_two_processes_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), who], cwd=REPO)
             for who in ("alpha", "beta")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    check = verify_ledger(path)
    assert check.problem is None
    assert len(check.entries) == 100
    # Each append's two entries stay together: no interleaving inside an append.
    for first, second in zip(check.entries[::2], check.entries[1::2], strict=True):
        assert first["key"].split("/")[1] == second["key"].split("/")[1]
        assert first["n"] == second["n"]


def test_a_ledger_in_a_missing_directory_is_refused_before_the_audit(estate: Path) -> None:
    code, out, err = audit("--ledger", "nowhere/ledger.jsonl")
    assert code == 2 and out == ""
    assert "error[SLG0920]: cannot create ledger `nowhere/ledger.jsonl`" in err


def test_the_example_estate_ledger_follows_the_schema(tmp_path: Path) -> None:
    import jsonschema

    from slang.evidence.ledger import report_entries

    demo = tmp_path / "demo"
    assert CliRunner().invoke(main, ["demo", str(demo)]).exit_code == 0
    ledger = tmp_path / "ledger.jsonl"
    result = CliRunner().invoke(main, [
        "audit", "policies/", "--bind", str(demo / "bindings.yaml"), "--period", "2026-10",
        "--as-of", AS_OF, "--ledger", str(ledger)])
    assert result.exit_code == 1
    schema = json.loads((REPO / "slang" / "schemas" / "ledger-entry.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    stored = entries(ledger)
    for entry in stored:
        validator.validate(entry)
    totals = {e["agreement"]: e for e in stored if e["kind"] == "credits"}
    # Checkout in October: 10 % (availability) + 15 % (uptime) of the 12000.00 GBP fee.
    checkout = totals["checkout_retail"]
    assert (checkout["credits_before_cap"], checkout["cap_adjustment"],
            checkout["credit_amount"], checkout["currency"]) == ("3000.00", "0", "3000.00", "GBP")
    assert report_entries  # the library call the command uses
    assert len([e for e in stored if e["kind"] == "result"]) == 31


def test_seq_must_be_an_integer_not_a_boolean() -> None:
    forged = {**body(0), "ledger_version": 1, "seq": True, "prev": GENESIS, "supersedes": None}
    forged["hash"] = entry_hash(forged)
    check = check_chain((canonical(forged) + "\n").encode(), "l")
    assert check.problem is not None and check.problem.line == 1
    assert "it says seq True at line 1" in check.problem.message
