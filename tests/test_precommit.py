"""The pre-commit hooks of `.pre-commit-hooks.yaml`, run by pre-commit itself.

Each test makes a git repository in a temporary directory with a small estate and runs
pre-commit in it against this repository. pre-commit builds a virtualenv and pip-installs slang
from the committed content of this repository (`language: python`): that needs the package
index and takes about half a minute per environment, so there are two builds only:

- `pre-commit try-repo` (how a hook author tries hooks before tagging) always builds in a store
  of its own, whatever `PRE_COMMIT_HOME` says, so it runs once, with every hook of the manifest;
- the other test uses a `.pre-commit-config.yaml`, as a user's repository does, with the store in
  `PRE_COMMIT_HOME` under the test's temporary directory: one build, reused by each later run.

Both name this repository's HEAD commit explicitly (`--ref`, `rev:`): without it, `try-repo` of a
work tree with uncommitted changes copies them into a shadow repository, so what ran would
depend on whatever else is being edited in the checkout. On a clean clone, as in CI, HEAD is what
is being tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

# Two files of one estate: the agreement names a service and a source that the other file
# declares, so it checks only as part of the whole (what the `slang-check` hook relies on).
CATALOGUE = """\
# The catalogue and the data.

catalogue "Example" {
  service checkout {
    title "Checkout API"
    owner "payments-team"
    tier  gold
  }
}

events requests from "requests" {
  time ts
  key  service
}
"""

AGREEMENT = """\
# An agreement naming `checkout` and `requests`, declared in catalogue.sla.

agreement checkout_retail {
  service   checkout
  customer  "Retail BU"
  provider  "Platform Operations"
  status    agreed
  effective 2026-01-01 .. 2026-12-31
  timezone  "Europe/London"
  period    monthly
  fee       12000.00 GBP
  review    every 3 months
  reviewed  2026-10-01
  notify    "ops@example.com" on breach
  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99.9%
  }
  credit availability {
    below 99.9% => 10%
  }
}
"""

# A policy test of the agreement, in canonical layout: one request in October, answered.
POLICY_TEST = """\
test checkout_met_in_october {
  as_of 2026-11-01T00:00:00Z
  data requests {
    columns ts,                   service,    status
    row     2026-10-01T10:00:00Z, "checkout", 200
  }
  expect checkout_retail.availability 2026-10 { status met  measured 100% }
}
"""

# The same agreement with its field values out of the canonical column.
MISALIGNED = AGREEMENT.replace("  service   checkout", "  service checkout").replace(
    "    target    >= 99.9%", "    target >= 99.9%"
)


def _env(home: Path) -> dict[str, str]:
    """This process's environment, with pre-commit's store in `home` and nothing that could
    point the hook's Python back at this checkout or git at another repository."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("GIT_")
    }
    env.update(
        PRE_COMMIT_HOME=str(home),
        PRE_COMMIT_COLOR="never",
        GIT_AUTHOR_NAME="slang tests",
        GIT_AUTHOR_EMAIL="tests@example.com",
        GIT_COMMITTER_NAME="slang tests",
        GIT_COMMITTER_EMAIL="tests@example.com",
    )
    return env


def _run(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_env(home), capture_output=True, text=True,
                          check=False, timeout=900)


def _pre_commit(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    proc = _run([sys.executable, "-m", "pre_commit", *args], cwd, home)
    print(f"pre-commit {' '.join(args[:2])}: exit {proc.returncode}, "
          f"{time.monotonic() - started:.1f} s")
    return proc


def _head() -> str:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    proc = subprocess.run(["git", "rev-parse", "--verify", "HEAD"], cwd=REPO,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not (REPO / ".git").exists():
        pytest.skip("not a git checkout of slang (pre-commit installs hooks from git)")
    listed = subprocess.run(["git", "cat-file", "-e", "HEAD:.pre-commit-hooks.yaml"], cwd=REPO,
                            capture_output=True, check=False)
    assert listed.returncode == 0, "HEAD has no .pre-commit-hooks.yaml: commit it first"
    return proc.stdout.strip()


def _estate(root: Path, home: Path, agreement: str) -> Path:
    """A git repository with `policies/catalogue.sla`, `policies/agreements/checkout.sla` and
    its test `checkout_test.sla`, staged (pre-commit's --all-files runs on the files git
    tracks)."""
    (root / "policies" / "agreements").mkdir(parents=True)
    (root / "policies" / "catalogue.sla").write_text(CATALOGUE, encoding="utf-8")
    (root / "policies" / "agreements" / "checkout.sla").write_text(agreement, encoding="utf-8")
    (root / "policies" / "agreements" / "checkout_test.sla").write_text(POLICY_TEST,
                                                                        encoding="utf-8")
    (root / "README.md").write_text("An estate.\n", encoding="utf-8")
    for args in (["git", "init", "-q", "."], ["git", "add", "."]):
        assert _run(args, root, home).returncode == 0
    return root / "policies" / "agreements" / "checkout.sla"


def _output(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


def _hook_result(out: str, name: str) -> str:
    """`Passed`, `Failed` or `Skipped` from pre-commit's line `NAME.......Passed`."""
    for line in out.splitlines():
        if line.startswith(name + ".") or line.startswith(name + " ."):
            return line.rsplit(".", 1)[-1].strip().split()[0]
    raise AssertionError(f"no result line for {name!r} in:\n{out}")


def test_try_repo_runs_every_hook(tmp_path: Path) -> None:
    """`pre-commit try-repo REPO --all-files` with every hook of the manifest, in id order:
    slang-check passes on a valid two-file estate, slang-fmt rewrites the misaligned file and
    fails the run (pre-commit reports files modified), slang-fmt-check then finds nothing, and
    slang-test runs the estate's test."""
    ref = _head()
    home = tmp_path / "pre-commit-home"
    agreement = _estate(tmp_path / "work", home, MISALIGNED)

    proc = _pre_commit(["try-repo", str(REPO), "--ref", ref, "--all-files", "--color", "never"],
                       tmp_path / "work", home)
    out = _output(proc)
    assert proc.returncode == 1, out
    assert _hook_result(out, "slang check") == "Passed", out
    assert _hook_result(out, "slang fmt") == "Failed", out
    assert "files were modified by this hook" in out
    assert "policies/agreements/checkout.sla" in out
    assert agreement.read_text(encoding="utf-8") == AGREEMENT
    assert _hook_result(out, "slang fmt --check") == "Passed", out
    assert _hook_result(out, "slang test") == "Passed", out


def test_config_check_and_fmt(tmp_path: Path) -> None:
    """The hooks as a user's `.pre-commit-config.yaml` names them: the estate passes, then an
    unknown service fails slang-check with its coded, located diagnostic, and a misaligned file
    fails slang-fmt-check with the diff (the file untouched), and slang-fmt rewrites it."""
    ref = _head()
    home = tmp_path / "pre-commit-home"
    work = tmp_path / "work"
    agreement = _estate(work, home, AGREEMENT)
    config = {
        "repos": [
            {
                "repo": str(REPO),
                "rev": ref,
                "hooks": [{"id": "slang-check"}, {"id": "slang-fmt"}, {"id": "slang-fmt-check"},
                          {"id": "slang-test"}],
            }
        ]
    }
    (work / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert _run(["git", "add", ".pre-commit-config.yaml"], work, home).returncode == 0

    # The first run builds the environment in PRE_COMMIT_HOME; the later ones reuse it.
    proc = _pre_commit(["run", "--all-files", "--color", "never"], work, home)
    out = _output(proc)
    assert proc.returncode == 0, out
    for name in ("slang check", "slang fmt", "slang fmt --check", "slang test"):
        assert _hook_result(out, name) == "Passed", out

    agreement.write_text(AGREEMENT.replace("service   checkout", "service   chekout"),
                         encoding="utf-8")
    proc = _pre_commit(["run", "slang-check", "--all-files", "--color", "never"], work, home)
    out = _output(proc)
    assert proc.returncode == 1, out
    assert _hook_result(out, "slang check") == "Failed", out
    assert "- exit code: 1" in out
    assert ("policies/agreements/checkout.sla:4:13: error[SLG0203]: "
            "unknown service `chekout` in the catalogue") in out
    assert "did you mean `checkout`?" in out

    agreement.write_text(MISALIGNED, encoding="utf-8")
    proc = _pre_commit(["run", "slang-fmt-check", "--all-files", "--color", "never"], work, home)
    out = _output(proc)
    assert proc.returncode == 1, out
    assert _hook_result(out, "slang fmt --check") == "Failed", out
    assert "+++ policies/agreements/checkout.sla" in out
    assert "-  service checkout\n+  service   checkout" in out
    assert agreement.read_text(encoding="utf-8") == MISALIGNED

    proc = _pre_commit(["run", "slang-fmt", "--all-files", "--color", "never"], work, home)
    out = _output(proc)
    assert proc.returncode == 1, out
    assert "files were modified by this hook" in out
    assert agreement.read_text(encoding="utf-8") == AGREEMENT

    test_file = agreement.with_name("checkout_test.sla")
    test_file.write_text(POLICY_TEST.replace("status met", "status breached"), encoding="utf-8")
    proc = _pre_commit(["run", "slang-test", "--all-files", "--color", "never"], work, home)
    out = _output(proc)
    assert proc.returncode == 1, out
    assert _hook_result(out, "slang test") == "Failed", out
    assert ("policies/agreements/checkout_test.sla:7:49: checkout_retail.availability 2026-10: "
            "status expected breached, actual met") in out
    assert "0 passed, 1 failed" in out
