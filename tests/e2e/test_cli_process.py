"""The installed `ringtui` executable as a script would run it: exit codes and clean stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

RINGTUI = Path(sys.executable).with_name("ringtui")


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RINGTUI), *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "RINGTUI_DATABASE_URL": db_url, "NO_COLOR": "1",
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}


def test_exit_codes_and_json_on_stdout_only(env):
    assert run("--help", env=env).returncode == 0
    created = run("init", "--company", "Acme", "--admin", "boss@acme.test", "--json", env=env)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["company"] == "Acme"
    added = run("users", "add", "ana@acme.test", "--json", env=env)
    assert json.loads(added.stdout)["email"] == "ana@acme.test"
    assert "Invitation sent" in added.stderr
    listed = run("users", "list", "--json", env=env)
    assert [u["email"] for u in json.loads(listed.stdout)] == ["ana@acme.test", "boss@acme.test"]
    duplicate = run("users", "add", "ana@acme.test", env=env)
    assert (duplicate.returncode, duplicate.stdout) == (1, "")
    assert duplicate.stderr.startswith("Error: ") and "ana@acme.test" in duplicate.stderr
    usage = run("users", "add", env=env)
    assert usage.returncode == 2


def test_csv_output(env):
    run("init", "--admin", "boss@acme.test", env=env)
    result = run("users", "list", "--csv", env=env)
    lines = result.stdout.splitlines()
    assert lines[0] == "email,first_name,last_name,status,role,groups,numbers"
    assert lines[1].startswith("boss@acme.test,Super,Admin,active,super_admin")


def test_default_database_is_created_in_the_user_data_directory(env, tmp_path):
    del env["RINGTUI_DATABASE_URL"]
    assert run("init", "--admin", "boss@acme.test", env=env).returncode == 0
    assert (tmp_path / "data" / "ringtui" / "ringtui.db").exists()


def test_python_dash_m_works(env):
    result = subprocess.run([sys.executable, "-m", "ringtui", "--version"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("ringtui ")
