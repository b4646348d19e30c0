"""The live center as the TUI sees it: the engine's feed folded into tables keyed by id.

`LiveState` applies feed messages (snapshot, then events) and remembers, for each
screen that subscribed, which rows changed since the screen last looked; screens
apply those changes at most ten times a second, in place. `FeedConnection` keeps
a websockets connection to the engine, reconnecting when it drops, and sends the
control messages (snooze, take, whisper) whose ack or error it hands back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# Agent states of the engine grouped into the board's four columns (A2).
BOARD_COLUMNS = ("free", "in_call", "snooze", "off")
COLUMN_OF_STATE = {"free": "free", "ringing": "in_call", "in_call": "in_call", "after_call_work": "in_call",
                   "snooze": "snooze", "off": "off", "out_of_schedule": "off"}


def parse_time(text: Any) -> datetime | None:
    if not text or not isinstance(text, str):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Changes:
    """Keys changed since a screen last applied them (sets: many events on one row cost one update)."""

    agents: set[str] = field(default_factory=set)
    waiting: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    kpis: bool = False

    def any(self) -> bool:
        return bool(self.agents or self.waiting or self.calls or self.kpis)

    def take(self) -> Changes:
        taken = Changes(self.agents, self.waiting, self.calls, self.kpis)
        self.agents, self.waiting, self.calls, self.kpis = set(), set(), set(), False
        return taken


class LiveState:
    """Agents, waiting calls, calls in progress and today's KPIs, as last told by the feed."""

    def __init__(self) -> None:
        self.agents: dict[str, dict[str, Any]] = {}
        self.waiting: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, dict[str, Any]] = {}
        self.kpis: dict[str, Any] = {}
        # IVR -> [inbound, answered] of the calls ended since the TUI connected (wallboard service level)
        self.ivr_tally: dict[str, list[int]] = {}
        self.rights: frozenset[str] = frozenset()
        self.now: datetime | None = None  # the engine's clock, as of its latest message
        self.connected = False
        self.status = "not connected"
        self.events = 0
        self._subscribers: list[Changes] = []
        self._listeners: dict[str, list[Callable[[dict[str, Any]], None]]] = {}
        self._unanchored: list[tuple[dict[str, Any], float]] = []

    def subscribe(self) -> Changes:
        changes = Changes(set(self.agents), set(self.waiting), set(self.calls), True)
        self._subscribers.append(changes)
        return changes

    def unsubscribe(self, changes: Changes) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(changes)

    def listen(self, kind: str, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Hand every message of type `kind` to `callback` too (events of other areas, such as
        campaigns, whose screens keep their own state); returns what stops it."""
        self._listeners.setdefault(kind, []).append(callback)
        return lambda: self._listeners.get(kind, []).remove(callback)

    # ------------------------------------------------------------ applying messages

    def apply(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        at = parse_time(message.get("at"))
        if at is not None:
            self._advance(at)
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            self.events += 1
            handler(message, at)
        for callback in tuple(self._listeners.get(kind or "", ())):
            callback(message)

    def apply_many(self, messages: Iterable[dict[str, Any]]) -> None:
        for message in messages:
            self.apply(message)

    def _advance(self, at: datetime) -> None:
        if self.now is None or at > self.now:
            self.now = at
        if self._unanchored:  # snapshot rows carry durations; the first engine time anchors them
            for row, seconds in self._unanchored:
                row["started_at"] = self.now - timedelta(seconds=seconds)
            self._unanchored.clear()

    def _mark(self, kind: str, key: str) -> None:
        for changes in self._subscribers:
            getattr(changes, kind).add(key)

    def _mark_all(self) -> None:
        for changes in self._subscribers:
            changes.agents |= set(self.agents)
            changes.waiting |= set(self.waiting)
            changes.calls |= set(self.calls)
            changes.kpis = True

    def _on_hello(self, message: dict[str, Any], _at: datetime | None) -> None:
        self.rights = frozenset(message.get("rights") or ())

    def _on_snapshot(self, message: dict[str, Any], at: datetime | None) -> None:
        self._mark_all()  # rows that disappear are marked too: screens remove them
        self.agents = {a["email"]: {**a, "since": parse_time(a.get("since"))}
                       for a in message.get("agents", [])}
        self.waiting, self.calls = {}, {}
        for row in message.get("waiting", []):
            self.waiting[row["call_id"]] = self._timed(dict(row), float(row.get("wait_s") or 0), at)
        for row in message.get("calls", []):
            self.calls[row["call_id"]] = self._timed(dict(row), float(row.get("duration_s") or 0), at)
        kpis = message.get("kpis")
        if kpis:  # today's figures at once (older engines: with their next kpi event), and the engine's time
            self.apply(kpis)
        self._mark_all()

    def _timed(self, row: dict[str, Any], seconds: float, at: datetime | None) -> dict[str, Any]:
        now = at or self.now
        if now is not None:
            row["started_at"] = now - timedelta(seconds=seconds)
        else:
            row["started_at"] = None
            self._unanchored.append((row, seconds))
        return row

    def _on_agent_state(self, message: dict[str, Any], _at: datetime | None) -> None:
        email = message["email"]
        agent = self.agents.setdefault(email, {"email": email, "name": email, "device": None})
        agent.update(state=message.get("state"), reason=message.get("reason"),
                     interface=message.get("interface"), since=parse_time(message.get("since")))
        self._mark("agents", email)

    def _on_call_started(self, message: dict[str, Any], at: datetime | None) -> None:
        call_id = message["call_id"]
        self.calls[call_id] = {
            "call_id": call_id, "direction": message.get("direction"), "kind": message.get("kind"),
            "from_number": message.get("from_number"), "to_number": message.get("to_number"),
            "ivr": message.get("ivr"), "agent": message.get("agent"), "vip": message.get("vip", False),
            "state": "routing", "started_at": at}
        self._mark("calls", call_id)

    def _call(self, call_id: str, at: datetime | None) -> dict[str, Any]:
        return self.calls.setdefault(call_id, {"call_id": call_id, "started_at": at, "state": "routing"})

    def _on_call_waiting(self, message: dict[str, Any], at: datetime | None) -> None:
        call_id = message["call_id"]
        call = self._call(call_id, at)
        call["state"] = "queued"
        self.waiting[call_id] = {"call_id": call_id, "from_number": message.get("from_number"),
                                 "ivr": message.get("ivr"), "vip": message.get("vip", False),
                                 "started_at": call.get("started_at") or at}
        self._mark("calls", call_id)
        self._mark("waiting", call_id)

    def _on_waiting_list(self, message: dict[str, Any], at: datetime | None) -> None:
        rows = {row["call_id"]: row for row in message.get("waiting", [])}
        for call_id in [c for c in self.waiting if c not in rows]:
            del self.waiting[call_id]
            self._mark("waiting", call_id)
        for call_id, row in rows.items():
            if call_id not in self.waiting:
                known = self.calls.get(call_id, {})
                started = known.get("started_at")
                if started is None and at is not None:
                    started = at - timedelta(seconds=float(row.get("wait_s") or 0))
                self.waiting[call_id] = {"call_id": call_id, "from_number": row.get("from_number"),
                                         "ivr": row.get("ivr"), "vip": row.get("vip", False),
                                         "started_at": started}
                self._mark("waiting", call_id)

    def _on_call_ringing(self, message: dict[str, Any], at: datetime | None) -> None:
        call = self._call(message["call_id"], at)
        if call.get("state") != "transferring":  # a transfer's target rings: still shown as a transfer
            call["state"] = "ringing"
        call["ringing"] = list(message.get("agents") or [])
        self._mark("calls", message["call_id"])

    def _on_call_answered(self, message: dict[str, Any], at: datetime | None) -> None:
        call_id = message["call_id"]
        call = self._call(call_id, at)
        call.update(state="connected", agent=message.get("agent"), answered_at=at)
        self._mark("calls", call_id)
        if self.waiting.pop(call_id, None) is not None:
            self._mark("waiting", call_id)

    def _on_call_transferred(self, message: dict[str, Any], at: datetime | None) -> None:
        call_id = message["call_id"]
        call = self._call(call_id, at)
        call.update(state="connected" if message.get("to_number") else "transferring",
                    agent=message.get("to_number"), transferred_by=message.get("by"))
        self._mark("calls", call_id)

    def _on_call_ended(self, message: dict[str, Any], _at: datetime | None) -> None:
        summary = message.get("call") or {}
        call_id = summary.get("call_id")
        if not call_id:
            return
        if summary.get("ivr") and summary.get("direction") == "in":
            tally = self.ivr_tally.setdefault(summary["ivr"], [0, 0])
            tally[0] += 1
            tally[1] += summary.get("type") == "answered"
            for changes in self._subscribers:
                changes.kpis = True
        if self.calls.pop(call_id, None) is not None:
            self._mark("calls", call_id)
        if self.waiting.pop(call_id, None) is not None:
            self._mark("waiting", call_id)

    def _on_kpi(self, message: dict[str, Any], _at: datetime | None) -> None:
        self.kpis = message
        for changes in self._subscribers:
            changes.kpis = True

    # ------------------------------------------------------------ reading

    def seconds_since(self, moment: datetime | None) -> float | None:
        if moment is None or self.now is None:
            return None
        return max(0.0, (self.now - moment).total_seconds())


class FeedConnection:
    """A websockets client of the engine's feed feeding a LiveState; reconnects until closed."""

    def __init__(self, url: str, token: str | Callable[[], str], state: LiveState | None = None) -> None:
        self.url = url
        self.token = token
        self.attempts = 0
        self.state = state or LiveState()
        self._ws: Any = None
        self._replies: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}
        self._closed = False
        self.first_snapshot = asyncio.Event()

    async def connect_once(self, timeout: float = 5.0) -> None:
        """Open the connection and read hello and snapshot; errors say what to do."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus, WebSocketException

        from ringtui.errors import RingtuiError

        self.attempts += 1
        token = self.token() if callable(self.token) else self.token
        try:
            async with asyncio.timeout(timeout):
                self._ws = await connect(self.url, open_timeout=timeout, max_size=None, compression=None,
                                         additional_headers={"Authorization": f"Bearer {token}"})
                for _ in range(2):
                    self.state.apply(json.loads(await self._ws.recv()))
        except InvalidStatus as error:
            raise RingtuiError(f"the engine at {self.url} refused the token (HTTP "
                               f"{error.response.status_code})") from None
        except (OSError, TimeoutError, WebSocketException) as error:
            raise RingtuiError(f"no engine answers at {self.url} ({error or type(error).__name__}): "
                               "start one with `ringtui engine run`, or try `ringtui demo`") from None
        self.state.connected, self.state.status = True, f"live: {self.url}"
        self.first_snapshot.set()

    async def run(self) -> None:
        """Read events until closed; on a drop, say so and reconnect every 2 s."""
        from websockets.exceptions import ConnectionClosed

        from ringtui.errors import RingtuiError

        while not self._closed:
            if self._ws is None:
                try:
                    await self.connect_once()
                except RingtuiError as error:
                    self.state.connected, self.state.status = False, f"offline: {error}"
                    await asyncio.sleep(0.2 if self.attempts < 25 else 2)  # quick while an engine starts
                    continue
            try:
                async for frame in self._ws:
                    self._receive(json.loads(frame))
            except (ConnectionClosed, OSError, ValueError):  # dropped, or a frame that is not JSON
                with contextlib.suppress(Exception):
                    await self._ws.close()
            self._ws = None
            self.state.connected, self.state.status = False, f"disconnected from {self.url}; reconnecting"
            self._fail_replies("the engine connection dropped")
            if not self._closed:
                await asyncio.sleep(1)

    def _receive(self, message: dict[str, Any]) -> None:
        if message.get("type") in ("ack", "error") and message.get("action"):
            waiting = self._replies.get(message["action"])
            if waiting:
                future = waiting.pop(0)
                if not future.done():
                    future.set_result(message)
                return
        self.state.apply(message)

    def _fail_replies(self, text: str) -> None:
        for futures in self._replies.values():
            for future in futures:
                if not future.done():
                    future.set_result({"type": "error", "error": text})
        self._replies.clear()

    async def control(self, action: str, timeout: float = 5.0, **fields: Any) -> dict[str, Any]:
        """Send a control message; the engine's ack or error (as a dict with "type")."""
        if self._ws is None:
            return {"type": "error", "action": action,
                    "error": f"not connected to an engine ({self.state.status})"}
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies.setdefault(action, []).append(future)
        await self._ws.send(json.dumps({"action": action, **fields}))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return {"type": "error", "action": action,
                    "error": f"the engine did not answer {action} in {timeout:g} s"}

    async def close(self) -> None:
        self._closed = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()


def utc_now() -> datetime:
    return datetime.now(UTC)
