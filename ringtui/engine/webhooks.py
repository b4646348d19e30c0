"""Webhooks (M5, E4): the core's call events, POSTed as signed JSON to registered URLs.

The public vocabulary is `incoming_call` (an inbound call starts), `call_answered`,
`missed_call`, `voicemail` and `call_ended` (every call end, after the missed or
voicemail event of the same call). Every delivery is one POST of

    {"event": NAME, "id": DELIVERY_ID, "at": ISO-8601 UTC, "protocol": 1, "call": {...}}

with the headers `X-Ringtui-Event`, `X-Ringtui-Delivery` (the same on every retry of
a delivery), `X-Ringtui-Timestamp` (Unix seconds of the attempt) and
`X-Ringtui-Signature: sha256=HEX`, the HMAC-SHA256 of the raw body keyed with the
webhook's secret (its UTF-8 text). Receivers check it with `verify_signature()`.

How the dispatcher keeps the engine safe from slow receivers:
- `submit()` only appends to a bounded queue: it never waits and never raises; when
  the queue is full the oldest event is dropped and counted.
- Each webhook has its own lane (a bounded queue and one worker), so a dead or slow
  endpoint only delays its own deliveries, which it receives in order.
- Connection errors, timeouts and 5xx answers are retried with exponential backoff;
  a 4xx answer is final.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from ringtui import __version__
from ringtui.engine.core.events import (
    PROTOCOL_VERSION,
    CallAnswered,
    CallEnded,
    CallStarted,
    Event,
)
from ringtui.vocab import CallType, Direction

if TYPE_CHECKING:
    from ringtui.config import Settings

log = logging.getLogger(__name__)

SIGNATURE_PREFIX = "sha256="
EVENT_HEADER = "X-Ringtui-Event"
DELIVERY_HEADER = "X-Ringtui-Delivery"
SIGNATURE_HEADER = "X-Ringtui-Signature"
TIMESTAMP_HEADER = "X-Ringtui-Timestamp"
TEST_EVENT = "test"
ALL_EVENTS = "all"


# ---------------------------------------------------------------- what is sent


@dataclass(frozen=True)
class WebhookTarget:
    """A webhook as the dispatcher needs it (read from the database by the caller's callable)."""

    id: int
    url: str
    events: tuple[str, ...]
    secret: str

    def wants(self, name: str) -> bool:
        return ALL_EVENTS in self.events or name in self.events


@dataclass(frozen=True)
class WebhookEvent:
    """One event of the public vocabulary, before it is addressed to a webhook."""

    name: str
    at: datetime
    call: dict[str, Any] | None


@dataclass(frozen=True)
class Delivery:
    """One event for one webhook: the body is signed once, retries send the same bytes."""

    target: WebhookTarget
    event: str
    delivery_id: str
    body: bytes


@dataclass(frozen=True)
class DeliveryResult:
    webhook_id: int
    delivery_id: str
    event: str
    ok: bool
    status: str  # "200", "503 (5 attempts)", "ConnectError: ..." - what `webhooks list` shows
    http_status: int | None
    attempts: int
    elapsed_s: float


class DeliveryFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def payload(event: WebhookEvent, delivery_id: str) -> dict[str, Any]:
    return {"event": event.name, "id": delivery_id, "at": iso_utc(event.at), "protocol": PROTOCOL_VERSION,
            "call": event.call}


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def sign(secret: str, body: bytes) -> str:
    """The `X-Ringtui-Signature` value of a body."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes | str, header: str | None) -> bool:
    """For receivers: is `header` (X-Ringtui-Signature) the signature of the raw `body`?

    Compare against the bytes as received, before any JSON parsing; the comparison
    takes constant time.
    """
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    raw = body.encode() if isinstance(body, str) else body
    return hmac.compare_digest(sign(secret, raw), header.strip())


def new_delivery(target: WebhookTarget, event: WebhookEvent) -> Delivery:
    delivery_id = uuid.uuid4().hex
    return Delivery(target=target, event=event.name, delivery_id=delivery_id,
                    body=encode(payload(event, delivery_id)))


def request_headers(delivery: Delivery) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"ringtui-webhooks/{__version__}",
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: delivery.delivery_id,
        TIMESTAMP_HEADER: str(int(time.time())),
        SIGNATURE_HEADER: sign(delivery.target.secret, delivery.body),
    }


# ---------------------------------------------------------------- core events -> public events


_CALL_FIELDS = ("call_id", "direction", "kind", "from_number", "to_number", "ivr", "agent", "vip",
                "wait_s", "talk_s", "type", "started_at", "answered_at", "ended_at", "ended_by")


class CallEvents:
    """Turns the core's events into the public vocabulary.

    It remembers each live call from its start so that `call_answered` carries the
    numbers and IVR too; every payload has the same `call` keys (None when not known yet).
    """

    def __init__(self, max_live_calls: int = 10_000) -> None:
        self._live: dict[str, dict[str, Any]] = {}
        self._max_live_calls = max_live_calls

    def translate(self, event: Event) -> list[WebhookEvent]:
        if isinstance(event, CallStarted):
            call = self._remember(event.call_id, {
                "call_id": event.call_id, "direction": str(event.direction), "kind": str(event.kind),
                "from_number": event.from_number, "to_number": event.to_number, "ivr": event.ivr,
                "agent": event.agent, "vip": event.vip, "started_at": iso_utc(event.at)})
            return [WebhookEvent("incoming_call", event.at, call)] if event.direction == Direction.IN else []
        if isinstance(event, CallAnswered):
            if event.transferred:  # a transfer's target took it: call_answered went with the first answer
                return []
            call = self._remember(event.call_id, {
                "call_id": event.call_id, "agent": event.agent, "wait_s": event.wait_s,
                "answered_at": iso_utc(event.at)})
            return [WebhookEvent("call_answered", event.at, call)]
        if isinstance(event, CallEnded):
            self._live.pop(event.call.call_id, None)
            call = {**dict.fromkeys(_CALL_FIELDS), **event.to_dict()["call"]}
            ended = [WebhookEvent("call_ended", event.at, call)]
            if event.call.type == CallType.MISSED:
                return [WebhookEvent("missed_call", event.at, call), *ended]
            if event.call.type == CallType.VOICEMAIL:
                return [WebhookEvent("voicemail", event.at, call), *ended]
            return ended
        return []

    def _remember(self, call_id: str, known: dict[str, Any]) -> dict[str, Any]:
        known = {key: value for key, value in known.items() if key in _CALL_FIELDS}
        call = {**dict.fromkeys(_CALL_FIELDS), **self._live.pop(call_id, {}), **known}
        self._live[call_id] = call
        while len(self._live) > self._max_live_calls:  # calls whose end was never seen
            self._live.pop(next(iter(self._live)))
        return dict(call)


# ---------------------------------------------------------------- sending


def _failure(error: httpx.HTTPError) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _status(http_status: int | None, reason: str, attempts: int) -> str:
    status = str(http_status) if http_status is not None else reason
    return f"{status} ({attempts} attempts)" if attempts > 1 else status


def send_test_event(target: WebhookTarget, *, timeout_s: float = 5.0) -> DeliveryResult:
    """Send a synthetic `test` event now (no retry); raises DeliveryFailed unless a 2xx comes back."""
    delivery = new_delivery(target, WebhookEvent(TEST_EVENT, datetime.now(UTC), None))
    started = time.monotonic()
    try:
        with httpx.Client(timeout=timeout_s) as client:
            response = client.post(target.url, content=delivery.body, headers=request_headers(delivery))
    except httpx.HTTPError as error:
        raise DeliveryFailed(_failure(error)) from None
    if not response.is_success:
        raise DeliveryFailed(f"the receiver answered HTTP {response.status_code} {response.reason_phrase}")
    return DeliveryResult(webhook_id=target.id, delivery_id=delivery.delivery_id, event=TEST_EVENT, ok=True,
                          status=str(response.status_code), http_status=response.status_code, attempts=1,
                          elapsed_s=time.monotonic() - started)


TargetSource = Callable[[], Iterable[WebhookTarget]]
DeliveryHook = Callable[[DeliveryResult], None]


@dataclass
class _Lane:
    """One webhook's own queue and worker."""

    queue: asyncio.Queue[Delivery]
    worker: asyncio.Task[None] | None = None
    busy: bool = False


@dataclass
class DispatcherStats:
    submitted: int = 0
    dropped: int = 0  # events (queue full, or submitted when not running) and deliveries (a lane full)
    delivered: int = 0
    failed: int = 0
    retries: int = 0
    dropped_by_webhook: dict[int, int] = field(default_factory=dict)


class WebhookDispatcher:
    """Delivers the core's call events to the webhooks `targets()` returns.

    `targets` and `on_delivery` are ordinary (blocking) callables, typically reading
    and writing the database; they run in a worker thread. `targets()` is read again
    at most every `refresh_s` seconds, so added, removed or deactivated webhooks are
    picked up without a restart.
    """

    def __init__(
        self,
        targets: TargetSource,
        *,
        on_delivery: DeliveryHook | None = None,
        queue_size: int = 1000,
        lane_size: int = 200,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        timeout_s: float = 5.0,
        refresh_s: float = 1.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self._targets_source = targets
        self._on_delivery = on_delivery
        self._queue_size = queue_size
        self._lane_size = lane_size
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._timeout_s = timeout_s
        self._refresh_s = refresh_s
        self._client = client
        self._owns_client = client is None
        self._inbound: asyncio.Queue[Event] | None = None
        self._router: asyncio.Task[None] | None = None
        self._lanes: dict[int, _Lane] = {}
        self._targets: list[WebhookTarget] = []
        self._targets_read_at: float | None = None
        self._calls = CallEvents()
        self._closing = False
        self.stats = DispatcherStats()

    # ------------------------------------------------------------ life cycle

    @property
    def running(self) -> bool:
        return self._router is not None and not self._closing

    def start(self) -> None:
        """Start the workers on the running event loop (submit() also starts them)."""
        if self._router is not None or self._closing:
            return
        asyncio.get_running_loop()  # refuses to start outside a loop, before anything is built
        self._inbound = asyncio.Queue(maxsize=self._queue_size)
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout_s)
        self._router = asyncio.create_task(self._route(), name="webhooks-router")

    async def __aenter__(self) -> WebhookDispatcher:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Stop taking events, deliver what is queued for up to `timeout_s`, then cancel the rest."""
        if self._closing:
            return
        self._closing = True
        if self._router is None:
            return
        try:
            async with asyncio.timeout(timeout_s):
                await self._inbound.join()
                for lane in list(self._lanes.values()):
                    await lane.queue.join()
        except TimeoutError:
            pending = sum(lane.queue.qsize() + lane.busy for lane in self._lanes.values())
            log.warning("webhooks: closing with %d deliveries not done after %.1f s", pending, timeout_s)
        tasks = [self._router, *(lane.worker for lane in self._lanes.values() if lane.worker)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._owns_client and self._client is not None:
            await self._client.aclose()

    # ------------------------------------------------------------ taking events

    def submit(self, event: Event) -> None:
        """Queue an event of the core; never waits, never raises."""
        try:
            self._submit(event)
        except Exception:  # the engine's call handling must not fail because of webhooks
            log.exception("webhooks: event %r lost", event)
            self.stats.dropped += 1

    def _submit(self, event: Event) -> None:
        if self._router is None and not self._closing:
            try:
                self.start()
            except RuntimeError:  # no running event loop
                self.stats.dropped += 1
                return
        if self._closing or self._inbound is None:
            self.stats.dropped += 1
            return
        self.stats.submitted += 1
        if _put_dropping_oldest(self._inbound, event):
            self.stats.dropped += 1

    # ------------------------------------------------------------ routing

    async def _route(self) -> None:
        while True:
            event = await self._inbound.get()
            try:
                targets = await self._current_targets()
                # no webhook: nothing to translate (a call ended's payload is the costly part under load)
                events = self._calls.translate(event) if targets else []
                if events:
                    for public in events:
                        for target in targets:
                            if target.wants(public.name):
                                self._enqueue(new_delivery(target, public))
            except Exception:
                log.exception("webhooks: could not route %r", event)
            finally:
                self._inbound.task_done()

    async def _current_targets(self) -> list[WebhookTarget]:
        loop = asyncio.get_running_loop()
        if self._targets_read_at is None or loop.time() - self._targets_read_at >= self._refresh_s:
            try:
                self._targets = list(await asyncio.to_thread(lambda: list(self._targets_source())))
                self._retire_lanes({target.id for target in self._targets})
            except Exception:  # keep delivering to the webhooks known so far
                log.exception("webhooks: could not read the webhooks; using the last list")
            self._targets_read_at = loop.time()
        return self._targets

    def _enqueue(self, delivery: Delivery) -> None:
        lane = self._lanes.get(delivery.target.id)
        if lane is None:
            lane = _Lane(queue=asyncio.Queue(maxsize=self._lane_size))
            lane.worker = asyncio.create_task(self._work(lane), name=f"webhook-{delivery.target.id}")
            self._lanes[delivery.target.id] = lane
        if _put_dropping_oldest(lane.queue, delivery):
            self.stats.dropped += 1
            by_hook = self.stats.dropped_by_webhook
            by_hook[delivery.target.id] = by_hook.get(delivery.target.id, 0) + 1

    def _retire_lanes(self, current: set[int]) -> None:
        """Stop the idle workers of webhooks that are gone."""
        for webhook_id, lane in list(self._lanes.items()):
            if webhook_id not in current and not lane.busy and lane.queue.empty() and lane.worker:
                lane.worker.cancel()
                del self._lanes[webhook_id]

    # ------------------------------------------------------------ delivering

    async def _work(self, lane: _Lane) -> None:
        while True:
            delivery = await lane.queue.get()
            lane.busy = True
            try:
                result = await self._deliver(delivery)
                await self._report(result)
            except Exception:
                log.exception("webhooks: delivery %s failed unexpectedly", delivery.delivery_id)
            finally:
                lane.busy = False
                lane.queue.task_done()

    async def _deliver(self, delivery: Delivery) -> DeliveryResult:
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            http_status, reason, retry = await self._attempt(delivery)
            ok = http_status is not None and 200 <= http_status < 300
            if ok or not retry or attempt >= self._max_attempts:
                break
            self.stats.retries += 1
            await asyncio.sleep(min(self._backoff_s * 2 ** (attempt - 1), self._max_backoff_s))
        if ok:
            self.stats.delivered += 1
        else:
            self.stats.failed += 1
            log.warning("webhooks: %s to %s failed: %s", delivery.event, delivery.target.url, reason)
        return DeliveryResult(webhook_id=delivery.target.id, delivery_id=delivery.delivery_id,
                              event=delivery.event, ok=ok, status=_status(http_status, reason, attempt),
                              http_status=http_status, attempts=attempt, elapsed_s=time.monotonic() - started)

    async def _attempt(self, delivery: Delivery) -> tuple[int | None, str, bool]:
        """(HTTP status or None, why it failed, whether to try again)."""
        try:
            response = await self._client.post(delivery.target.url, content=delivery.body,
                                               headers=request_headers(delivery))
        except httpx.TransportError as error:  # refused, reset, timed out: the receiver may come back
            return None, _failure(error), True
        except httpx.HTTPError as error:
            return None, _failure(error), False
        code = response.status_code
        return code, f"HTTP {code}", code >= 500

    async def _report(self, result: DeliveryResult) -> None:
        if self._on_delivery is None:
            return
        try:
            await asyncio.to_thread(self._on_delivery, result)
        except Exception:
            log.exception("webhooks: could not record delivery %s", result.delivery_id)


def _put_dropping_oldest(queue: asyncio.Queue[Any], item: Any) -> bool:
    """Put without waiting; when the queue is full the oldest item makes room. True if one was dropped."""
    try:
        queue.put_nowait(item)
        return False
    except asyncio.QueueFull:
        queue.get_nowait()
        queue.task_done()
        queue.put_nowait(item)
        return True


# ---------------------------------------------------------------- wiring to the database


def database_callbacks(settings: Settings) -> tuple[TargetSource, DeliveryHook]:
    """`targets` and `on_delivery` reading and recording through the webhooks service."""
    from ringtui.services import webhooks as service
    from ringtui.services.base import operation

    def targets() -> Sequence[WebhookTarget]:
        with operation(settings) as op:
            return service.active_webhooks(op)

    def on_delivery(result: DeliveryResult) -> None:
        with operation(settings) as op:
            service.record_delivery(op, result.webhook_id, result.status)

    return targets, on_delivery


def dispatcher_for(settings: Settings, **options: Any) -> WebhookDispatcher:
    """A dispatcher for the account in `settings`' database."""
    targets, on_delivery = database_callbacks(settings)
    return WebhookDispatcher(targets, on_delivery=on_delivery, **options)

