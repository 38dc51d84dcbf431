"""facebench installed from its wheel (not the source tree) finds its configs and the default board.

The wheel is built from this checkout and installed without dependencies into a fresh virtual
environment that borrows the test environment's third-party packages through a ``.pth`` line
(the line adds the folder only: the editable install's own ``.pth`` hooks there are not run, so
``import facebench`` can only come from the wheel). ``facebench run --plan`` then runs on the
embedded default from a folder outside the checkout.
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp / "dist"), str(ROOT)], check=True, capture_output=True, text=True)
    (wheel,) = (tmp / "dist").glob("facebench-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, text=True)
    return env_dir, tmp


def _run(env_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FACEBENCH_PLUGINS")}
    return subprocess.run([str(env_dir / "bin" / "python"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_the_wheel_is_what_gets_imported(wheel_env):
    env_dir, tmp = wheel_env
    out = _run(env_dir, tmp, "-c", "import facebench, facebench.package_data as d; print(facebench.__file__); "
               "print(d.DEFAULT_CONFIG.is_file(), d.DEFAULT_BOARD.is_file())")
    assert out.returncode == 0, out.stderr
    where, found = out.stdout.split("\n")[:2]
    assert str(env_dir) in where and str(ROOT) not in where
    assert found == "True True"


def test_the_installed_wheel_plans_the_embedded_default(wheel_env):
    env_dir, tmp = wheel_env
    work = tmp / "elsewhere"
    work.mkdir()
    out = _run(env_dir, work, "-m", "facebench", "run", "--plan")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "job(s) would run" in out.stdout  # the embedded default, found inside the installed package
    assert "pretrain" in out.stdout and "finetune" in out.stdout and "embedded-classification" in out.stdout
    assert not (work / ".facebench" / "results.sqlite").exists()  # a plan writes nothing
