"""Imports stay lazy on the CLI path (DESIGN.md, "learn from harlequin").

Each check runs in a fresh interpreter, so what another test imported cannot
hide a module that the CLI pulls in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The TUI, the SIP stack, plotting, the live feed and the CDR import's polars: none of them belong on
# the CLI path.
FORBIDDEN_ON_CLI_PATH = ("textual", "aiovoip", "matplotlib", "plotext", "websockets", "polars")
# `--help` must not even load the database layer.
FORBIDDEN_ON_HELP_PATH = ("sqlmodel", "sqlalchemy")

PRELUDE = """
import json, sys
from typer.testing import CliRunner

def loaded(packages):
    return sorted({name.split(".")[0] for name in sys.modules} & set(packages))

def run(app, *args):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    if result.exit_code != 0:
        sys.exit(f"ringtui {' '.join(args)} exited {result.exit_code}: {result.stdout} {result.stderr}")
    return result
"""

CLI_PATH = PRELUDE + """
import importlib, pkgutil
import ringtui.cli, ringtui.commands, ringtui.services

for package in (ringtui.commands, ringtui.services):
    for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)

db = "sqlite:///" + sys.argv[1]
run(ringtui.cli.app, "--db", db, "init", "--admin", "boss@acme.test")
users = json.loads(run(ringtui.cli.app, "--db", db, "users", "list", "--json").stdout)
assert [u["email"] for u in users] == ["boss@acme.test"], users
print(json.dumps(loaded(json.loads(sys.argv[2]))))
"""

HELP_PATH = PRELUDE + """
import ringtui.cli
from typer.main import get_command

run(ringtui.cli.app, "--help")
for name in get_command(ringtui.cli.app).commands:
    run(ringtui.cli.app, name, "--help")
print(json.dumps(loaded(json.loads(sys.argv[2]))))
"""


def run_in_fresh_interpreter(script: str, tmp_path: Path, forbidden: tuple[str, ...]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGTUI_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), str(tmp_path / "ringtui.db"), json.dumps(forbidden)],
        capture_output=True, text=True, env=env, cwd=Path(__file__).parent.parent, timeout=120)
    assert done.returncode == 0, f"the probe failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_cli_path_does_not_import_the_tui_sip_or_plotting(tmp_path: Path) -> None:
    loaded = run_in_fresh_interpreter(CLI_PATH, tmp_path, FORBIDDEN_ON_CLI_PATH)
    assert loaded == [], (
        f"`ringtui users list` (with every command and service module imported) loaded {loaded}; "
        "import them inside the function that needs them")


def test_help_does_not_load_the_database_layer(tmp_path: Path) -> None:
    loaded = run_in_fresh_interpreter(HELP_PATH, tmp_path, FORBIDDEN_ON_HELP_PATH)
    assert loaded == [], (
        f"`ringtui --help` loaded {loaded}; command modules may import only typer, "
        "ringtui.commands._runtime and ringtui.output at module level")


@pytest.mark.parametrize("package", FORBIDDEN_ON_HELP_PATH)
def test_the_probe_sees_a_forbidden_import(tmp_path: Path, package: str) -> None:
    """The checks above can fail: a probe that imports the package reports it."""
    script = PRELUDE + f"\nimport {package}\nprint(json.dumps(loaded(json.loads(sys.argv[2]))))\n"
    assert package in run_in_fresh_interpreter(script, tmp_path, FORBIDDEN_ON_HELP_PATH)
