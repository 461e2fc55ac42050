"""`slang diff` on the command line: formats, exit codes, git revisions."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from slang.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for side in ("old", "new"):
        shutil.copytree(REPO / "policies", tmp_path / side)
    (tmp_path / "slang.toml").write_text("")
    checkout = tmp_path / "new" / "agreements" / "checkout.sla"
    checkout.write_text(checkout.read_text().replace("period      monthly", "period      weekly",
                                                     1))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["diff", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_changed_period_is_reported(versions: Path) -> None:
    code, out, _ = run("old", "new")
    assert code == 0
    assert out.splitlines()[0] == "checkout_retail"
    assert "period monthly -> weekly" in out
    assert out.rstrip().splitlines()[-1].startswith("1 change: 1 tightened")


def test_fail_on_change_and_json(versions: Path) -> None:
    code, out, _ = run("old", "new", "--format", "json", "--fail-on", "change")
    assert code == 1
    (change,) = json.loads(out)["changes"]
    assert (change["agreement"], change["kind"], change["classification"]) == (
        "checkout_retail", "period", "tightened")
    code, out, _ = run("old", "old", "--format", "json", "--fail-on", "change")
    assert (code, json.loads(out)) == (0, {"changes": []})


def test_markdown_fits_a_pull_request_comment(versions: Path) -> None:
    _, out, _ = run("old", "new", "--format", "markdown")
    assert "checkout_retail" in out and "|" in out


def test_a_side_with_errors_is_exit_2(versions: Path) -> None:
    (versions / "new" / "broken.sla").write_text("agreement x { service nowhere }\n")
    code, _, err = run("old", "new")
    assert code == 2
    assert "SLG0203" in err


def test_git_revision(versions: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True, cwd=versions)
    subprocess.run([*git, "add", "old", "slang.toml"], check=True, cwd=versions)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True, cwd=versions)
    code, out, _ = run("HEAD:old", "new")
    assert code == 0
    assert "period monthly -> weekly" in out
    code, _, err = run("no-such-rev:old", "new")
    assert code == 2 and "SLG0011" in err
