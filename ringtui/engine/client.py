"""A client of the live feed, for `engine status` and scripts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ringtui.errors import RingtuiError


def feed_url(address: str) -> str:
    """`ws://HOST:PORT` from `HOST:PORT` or a full websockets URL."""
    return address if address.startswith(("ws://", "wss://")) else f"ws://{address}"


async def fetch_snapshot(url: str, token: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """Connect, read the hello and the snapshot, disconnect."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus, WebSocketException

    try:
        async with asyncio.timeout(timeout), connect(
                url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=timeout) as ws:
            hello = json.loads(await ws.recv())
            snapshot = json.loads(await ws.recv())
    except InvalidStatus as error:
        raise RingtuiError(f"the engine at {url} refused the token (HTTP "
                           f"{error.response.status_code}): {error.response.body.decode().strip()}") from None
    except (OSError, TimeoutError, WebSocketException) as error:
        raise RingtuiError(f"no engine answers at {url} ({error or type(error).__name__}): start one "
                           "with `ringtui engine run`") from None
    snapshot.pop("type", None)
    snapshot.pop("seq", None)
    return {"protocol": hello.get("protocol"), **snapshot}
