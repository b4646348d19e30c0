"""The core is pure: no asyncio, no database, no sockets, so adapters can wrap it anywhere."""

from __future__ import annotations

import subprocess
import sys


def test_the_core_imports_no_io_library():
    code = ("import sys, ringtui.engine.core.center, ringtui.engine.core.clock; "
            "print(sorted(m for m in ('asyncio', 'socket', 'sqlalchemy', 'sqlmodel', 'websockets', 'typer') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
