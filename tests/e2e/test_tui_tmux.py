"""`ringtui demo` as a new user runs it: in a real terminal (tmux), on an empty database.

The demo seeds its account, starts engine and simulator in the TUI's process and shows a
living center: agents on the board, calls that come and go. `q` quits: exit code 0, the
engine's token removed, no call record left open. Skipped without tmux (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]

RINGTUI = Path(sys.executable).with_name("ringtui")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Terminal:
    """A tmux session on a server of its own (-L): other tests' tmux servers are never touched."""

    def __init__(self, name: str) -> None:
        self.name = name

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.name, *args], capture_output=True, text=True,
                              timeout=10).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, predicate, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.5)
        raise AssertionError(f"the terminal never showed what was expected; last screen:\n{text}")

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.name, "has-session", "-t", self.name],
                              capture_output=True).returncode == 0


def board_counts(text: str) -> dict[str, int]:
    counts = {}
    for title in ("Free", "In call", "Snooze", "Off", "Waiting", "Calls in progress"):
        marker = f"{title} ("
        if marker in text:
            counts[title] = int(text.split(marker, 1)[1].split(")", 1)[0])
    return counts


def calls_rows(text: str) -> list[str]:
    """The lines of the calls-in-progress panel (right half of the lower tables)."""
    return [line for line in text.splitlines() if "  in  " in line or "  out  " in line]


def test_ringtui_demo_shows_a_living_center_and_quits_cleanly(tmp_path: Path):
    database = tmp_path / "demo.db"
    exit_file = tmp_path / "exit.txt"
    env = {**os.environ, "RINGTUI_DATABASE_URL": f"sqlite:///{database}", "TERM": "xterm-256color",
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env.pop("NO_COLOR", None)
    command = (f"{RINGTUI} demo --history-days 1 --speed 30 --ws 127.0.0.1:{free_port()}; "
               f"echo $? > {exit_file}")
    terminal = Terminal(f"ringtui-e2e-{os.getpid()}")
    subprocess.run(["tmux", "-L", terminal.name, "new-session", "-d", "-s", terminal.name,
                    "-x", "120", "-y", "40", "sh", "-c", command], env=env, check=True, timeout=10)
    try:
        first = terminal.wait_for(lambda t: "Today  SL" in t and board_counts(t).get("Free", 0) > 0
                                  and calls_rows(t), timeout=90)
        counts = board_counts(first)
        assert sum(counts.get(c, 0) for c in ("Free", "In call", "Snooze", "Off")) >= 10, first
        # the center lives: the calls in progress change while we watch
        terminal.wait_for(lambda t: calls_rows(t) and calls_rows(t) != calls_rows(first), timeout=30)
        # the wallboard shows every IVR
        terminal.tmux("send-keys", "-t", terminal.name, "2")
        terminal.wait_for(lambda t: "Wallboard" in t and "Standard" in t and "free" in t, timeout=10)
        terminal.tmux("send-keys", "-t", terminal.name, "q")
        deadline = time.monotonic() + 30
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert exit_file.read_text().strip() == "0"
    finally:
        if terminal.alive():
            terminal.tmux("kill-server")
    with sqlite3.connect(database) as db:
        open_records = db.execute("SELECT COUNT(*) FROM call_record WHERE ended_at IS NULL").fetchone()[0]
        live_records = db.execute("SELECT COUNT(*) FROM call_record WHERE call_id LIKE 'live%'").fetchone()[0]
    assert open_records == 0, "quitting the demo closes every call record"
    assert live_records > 0, "the live calls were recorded"
    assert not (tmp_path / "data" / "ringtui" / "engine.token").exists()
