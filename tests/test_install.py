"""The wheel works on its own: built, installed into a fresh venv, run outside the checkout.

A checkout finds the grammar and the standard library at the repository root; an installed wheel
must carry them inside the package (`slang/_data/`). Only a real build and install shows that the
packaging says so: these tests are what catches a file left out of the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

POLICY = """\
import "std/calendars" as cal

catalogue "Installed" {
  service web { title "Web shop"  owner "web-team" }
}

events requests from "requests" {
  time ts
  key  service
}

agreement web_internal {
  service   web
  customer  "Internal"
  provider  "Platform Operations"
  status    agreed
  review    every 6 months
  reviewed  2026-06-01
  notify    "ops@example.com" on breach
  effective 2026-01-01 .. 2026-12-31
  timezone  "Europe/London"
  period    monthly

  objective availability {
    indicator ratio(requests where status < 500)
    target    >= 99.5%
    hours     cal.uk_business
  }
}
"""


def _clean_env() -> dict[str, str]:
    """The environment without anything that could point Python back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.pop("VIRTUAL_ENV", None)
    return env


def _run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=_clean_env(), capture_output=True,
                          text=True, check=False, timeout=600)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the freshly built wheel installed; returns its `bin` directory.

    Built once per session: building and installing take about 20 seconds.
    """
    work = tmp_path_factory.mktemp("install")
    dist = work / "dist"
    build = _run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, REPO], cwd=work)
    assert build.returncode == 0, build.stdout + build.stderr
    wheels = sorted(dist.glob("slang-*.whl"))
    assert len(wheels) == 1, wheels
    venv = work / "venv"
    made = _run([sys.executable, "-m", "venv", venv], cwd=work)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / "bin"
    pip = _run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheels[0]], cwd=work)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return bin_dir


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A policy root far from the checkout."""
    assert not tmp_path.is_relative_to(REPO)
    (tmp_path / "slang.toml").write_text("")
    (tmp_path / "web.sla").write_text(POLICY)
    return tmp_path


def test_installed_check_uses_the_bundled_stdlib(installed: Path, outside: Path) -> None:
    result = _run([installed / "slang", "check", "web.sla"], cwd=outside)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "checked 1 file: 0 errors, 0 warnings\n"
    assert result.stderr == ""


def test_installed_package_carries_grammar_and_stdlib(installed: Path, outside: Path) -> None:
    probe = (
        "import sysconfig, slang, slang.resources as r\n"
        "print(sysconfig.get_paths()['purelib'])\n"
        "print(slang.__file__)\n"
        "print(r.grammar_path())\n"
        "print(r.stdlib_dir())\n"
    )
    result = _run([installed / "python", "-c", probe], cwd=outside)
    assert result.returncode == 0, result.stderr
    site, init, grammar, stdlib = (Path(line) for line in result.stdout.splitlines())
    assert init == site / "slang" / "__init__.py"  # the wheel, not the checkout
    assert grammar == site / "slang" / "_data" / "grammar" / "slang.lark"
    assert grammar.is_file()
    assert stdlib == site / "slang" / "_data" / "stdlib"
    assert (stdlib / "calendars.sla").is_file()


def test_installed_unknown_std_module_lists_the_bundled_ones(installed: Path,
                                                             outside: Path) -> None:
    (outside / "web.sla").write_text('import "std/nope" as x\n')
    result = _run([installed / "slang", "check", "web.sla", "--format", "json"], cwd=outside)
    assert result.returncode == 1, result.stderr
    assert '"code": "SLG0207"' in result.stdout
    assert "std/calendars" in result.stdout


def test_installed_version_matches_pyproject(installed: Path, outside: Path) -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    commands: list[list[str | Path]] = [
        [installed / "slang", "version"],
        [installed / "python", "-m", "slang", "--version"],
    ]
    for args in commands:
        result = _run(args, cwd=outside)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[0] == f"slang {declared}"
