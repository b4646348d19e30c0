"""The engine's local token: a secret file only its owner can read.

`ringtui engine run` writes a fresh one at start; local clients (`engine
status`, the TUI) read it to join the feed with every right. Remote clients
use an API key with the feed:read (and feed:control) right instead.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from ringtui.errors import Invalid, NotFound


def issue_token(path: Path) -> str:
    """Write a new token to `path`, readable and writable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    path.chmod(0o600)
    return token


def read_token(path: Path) -> str:
    """The token in `path`; refused when others could read the file too."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise NotFound(f"no engine token file at {path}: is `ringtui engine run` running for this "
                       "database? (or give --token)") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise Invalid(f"engine token file {path} is readable by others (mode {stat.filemode(mode)}); "
                      f"run `chmod 600 {path}`")
    return path.read_text().strip()
