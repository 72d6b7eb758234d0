"""The wheel carries the rule packs: ``rules/`` is force-included as ``curvedoc/rules/`` and the
installed package loads its default pack from there (not from a repo checkout next to it).

Builds with ``python -m build --no-isolation`` so no network is needed (hatchling is in the
test environment); the build takes about a second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build", reason="the 'build' package is needed to build the wheel")
    pytest.importorskip("hatchling", reason="hatchling is needed for a --no-isolation build")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"wheel build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    wheels = list(out.glob("curvedoc-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def test_every_rule_pack_is_in_the_wheel(wheel: Path) -> None:
    packs = sorted(p.name for p in (REPO / "rules").glob("*.toml"))
    assert "default.toml" in packs
    inside = names(wheel)
    with zipfile.ZipFile(wheel) as zf:
        for pack in packs:
            member = f"curvedoc/rules/{pack}"
            assert member in inside, f"{member} missing from {wheel.name}"
            assert zf.read(member) == (REPO / "rules" / pack).read_bytes()
    assert not any(n.startswith("rules/") for n in inside), "packs must live inside the package"


def test_py_typed_marker_is_shipped_if_present(wheel: Path) -> None:
    if not (REPO / "curvedoc" / "py.typed").exists():
        pytest.skip("curvedoc/py.typed does not exist (the package does not declare PEP 561 types)")
    assert "curvedoc/py.typed" in names(wheel)


def test_wheel_has_the_package_and_the_console_script(wheel: Path) -> None:
    inside = names(wheel)
    for module in ("__init__.py", "packs.py", "engine.py", "detectors/__init__.py"):
        assert f"curvedoc/{module}" in inside
    assert not any(n.startswith("tests/") for n in inside)
    entry = next(n for n in inside if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as zf:
        assert "curvedoc = curvedoc.cli:run" in zf.read(entry).decode()


def test_installed_package_loads_its_bundled_pack(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    assert not (site / "rules").exists()  # no repo-style fallback next to the package
    code = (
        "import curvedoc, curvedoc.packs as p; "
        "pack = p.load_pack('default'); "
        "print(curvedoc.__file__); print(pack.sources[0]); print(sorted(pack.rules)); "
        "print(p.builtin_pack_names())"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    where, source, rules, builtins = proc.stdout.splitlines()
    assert Path(where).resolve().is_relative_to(site.resolve()), where
    assert source == "<builtin>/default.toml"
    assert "overfitting" in rules
    assert "default" in builtins
