"""The creation forms of the three campaign kinds (K1-K3) and the SMS access requests.

Each form calls the same service as `ringtui campaign sms|calls|voice create`, so a
refusal is worded as the CLI words it and nothing is written. The SMS form shows
the text's encoding, fragments and estimated cost as it is typed. After creation
the import report (imported, duplicates, invalid lines, blacklisted) is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Static

from ringtui.errors import Invalid, RingtuiError
from ringtui.screens.widgets.forms import DetailScreen, Field, FormScreen, error_text, listed, optional, yes
from ringtui.screens.widgets.latest_worker import LatestInThread

FORM_CSS = """
CampaignForm > Vertical { width: 96; max-width: 100%; height: auto; max-height: 100%; }
CampaignForm VerticalScroll { height: auto; max-height: 1fr; }
CampaignForm .row { height: 1; }
CampaignForm .row > Label { width: 30; }
CampaignForm .row > Input { width: 1fr; height: 1; border: none; padding: 0 1; background: $boost; }
CampaignForm .row > Input:focus { background: $primary 40%; }
CampaignForm #estimate { color: $text-muted; height: auto; }
"""
ESTIMATE_DELAY_S = 0.25  # once typing pauses, not on every key


def whole(raw: str, option: str) -> int:
    """A whole number typed in a form, named as the CLI option it is."""
    if not raw.strip().lstrip("-").isdigit():
        raise Invalid(f"{option} {raw!r} is not a whole number")
    return int(raw)


def path_or_none(raw: str) -> Path | None:
    return Path(raw).expanduser() if raw else None


def modified(path: Path | None) -> float | None:
    """When a file was last written (None: no file), so an edited list is read again."""
    try:
        return path.stat().st_mtime if path is not None else None
    except OSError:
        return None


class CampaignForm(FormScreen):
    """A FormScreen of many fields, one line each, scrolling at 80x24; the SMS form adds an estimate,
    worked out in a thread (a 100,000-number list takes seconds to read: typing must not wait)."""

    DEFAULT_CSS = FormScreen.DEFAULT_CSS + FORM_CSS

    def __init__(self, title: str, fields: list[Field], submit: Callable[[dict[str, str]], str], *,
                 estimate: Callable[[dict[str, str]], str] | None = None) -> None:
        super().__init__(title, fields, submit, hint="Tab: next field   Enter: create   Esc: cancel")
        self.estimate = estimate
        self._timer: Any = None
        self._estimates: LatestInThread[str] = LatestInThread(self)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.form_title, classes="form-title")
            with VerticalScroll():
                for field in self.fields:
                    with Horizontal(classes="row"):
                        yield Label(field.label)
                        yield Input(value=field.value, placeholder=field.placeholder,
                                    id=f"field-{field.name}")
            if self.estimate is not None:
                yield Static("", id="estimate")
            yield Static(self.hint, classes="form-hint")
            yield Static("", id="form-error", classes="form-error")

    def on_mount(self) -> None:
        if self.estimate is not None:
            self.show_estimate()

    def on_input_changed(self, _event: Input.Changed) -> None:
        if self.estimate is None:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(ESTIMATE_DELAY_S, self.show_estimate)

    def show_estimate(self) -> None:
        if self.estimate is None or not self.is_mounted:
            return
        values, estimate = self.values(), self.estimate
        self._estimates.run(lambda: estimate(values), self.query_one("#estimate", Static).update)


def estimate_text(found: dict[str, Any]) -> str:
    text = (f"{found['characters']} character(s): {found['fragments_per_message']} {found['encoding']} "
            f"fragment(s) per SMS; {found['recipients']:,} recipient(s), estimated cost "
            f"{found['estimated_cost']:.2f}")
    return f"{text}\n{found['problem']}" if found["problem"] else text


def import_report(result: dict[str, Any]) -> DetailScreen:
    """What the list import kept and left out, with the invalid lines as the CLI prints them."""
    from ringtui.screens.logs import facts

    keys = ("name", "kind", "status", "recipients", "duplicates", "invalid", "blacklisted", "source",
            "encoding", "fragments_per_message", "estimated_cost", "contact_limit", "audio_seconds")
    lines = [f"line {line}: {message} (skipped)" for line, message in result.get("invalid_lines", [])]
    parts: list[Any] = [facts(result, tuple(k for k in keys if k in result))]
    parts.append(Static("\n".join(lines) if lines else "No invalid line.", id="invalid-lines"))
    return DetailScreen(f"Campaign {result['name']} created: import report (Esc closes)", parts)


LIST_FIELDS = [
    Field("recipients", "Recipients file (.csv/.txt)", placeholder="path, or numbers below"),
    Field("to", "or numbers typed", placeholder="0612345678, +34612345678"),
]
CSV_FIELDS = [
    Field("phone_column", "Phone column (CSV)", placeholder="header name or number from 1"),
    Field("columns", "Column labels (CSV)", placeholder="name=name, firm=company, plan=custom:Plan"),
]
SKIP_FIELD = Field("skip_invalid", "Skip invalid numbers (y/n)", "n")


class CampaignForms:
    """Creation of the three kinds and SMS access, as keys of the Campaigns screen."""

    BINDINGS = [
        Binding("m", "new_sms", "New SMS", id="campaigns.new_sms"),
        Binding("c", "new_calls", "New calls", id="campaigns.new_calls"),
        Binding("v", "new_voice", "New voice", id="campaigns.new_voice"),
        Binding("a", "sms_access", "SMS access", show=False, id="campaigns.sms_access"),
        Binding("A", "sms_decide", "Approve SMS", show=False, id="campaigns.sms_decide"),
    ]

    def _country(self) -> str:
        from ringtui.services.campaigns.progress import account_country

        return self.call(account_country) or ""  # type: ignore[attr-defined]

    def _create(self, title: str, fields: list[Field],
                create: Callable[[Any, dict[str, str]], dict[str, Any]],
                said: Callable[[dict[str, Any]], str], *,
                estimate: Callable[[dict[str, str]], str] | None = None) -> None:
        """A creation form; once created the list is read again and the import report shown."""
        screen: Any = self
        created: list[dict[str, Any]] = []

        def run(values: dict[str, str]) -> str:
            with screen.context.operation() as op:
                created.append(create(op, values))
            return said(created[-1])

        def done(message: str | None) -> None:
            if message and created:
                screen.reload()
                screen.show_info(message)
                screen.app.push_screen(import_report(created[-1]))

        screen.app.push_screen(CampaignForm(title, fields, run, estimate=estimate), done)

    def action_new_sms(self) -> None:
        from ringtui.services.campaigns import progress, sms

        screen: Any = self
        read: dict[str, Any] = {}  # the list last read for the estimate, and what it was read from

        def create(op: Any, v: dict[str, str]) -> dict[str, Any]:
            return sms.create_sms_campaign(
                op, v["name"], sender=v["sender"], country=v["country"], message=v["message"] or None,
                recipients=path_or_none(v["recipients"]), to=optional(v["to"]),
                phone_column=optional(v["phone_column"]), columns=listed(v["columns"]),
                skip_invalid=yes(v["skip_invalid"]))

        def estimate(v: dict[str, str]) -> str:
            """In a worker thread: the list is read again only when its fields or its file changed."""
            source = (v["country"], v["to"], v["recipients"], modified(path_or_none(v["recipients"])))
            try:
                if read.get("source") != source:
                    with screen.context.operation() as op:
                        read["list"] = progress.list_for_estimate(
                            op, country=v["country"], to=optional(v["to"]),
                            recipients=path_or_none(v["recipients"]))
                    read["source"] = source
            except RingtuiError as error:
                return error_text(error)
            return estimate_text(progress.sms_estimate(screen.context.settings, v["message"], read["list"]))

        self._create("New SMS campaign", [
            Field("name", "Name"),
            Field("sender", "Sender", placeholder="number, or a name of 11 characters"),
            Field("country", "Country (ISO)", self._country()), Field("message", "Message"),
            *LIST_FIELDS, *CSV_FIELDS, SKIP_FIELD,
        ], create, lambda r: (f"Campaign {r['name']!r} created: {r['fragments_per_message']} {r['encoding']} "
                              f"fragment(s) per SMS, estimated cost {r['estimated_cost']:.2f}. "
                              "Launch it with l."), estimate=estimate)

    def action_new_calls(self) -> None:
        from ringtui.services.campaigns import calls

        def create(op: Any, v: dict[str, str]) -> dict[str, Any]:
            return calls.create_call_campaign(
                op, v["name"], file=path_or_none(v["recipients"]), to=optional(v["to"]),
                phone_column=optional(v["phone_column"]), columns=listed(v["columns"]),
                country=optional(v["country"]), attempts=whole(v["attempts"], "--attempts"),
                retry_minutes=whole(v["retry_minutes"], "--retry-minutes"), agents=listed(v["agents"]),
                groups=listed(v["groups"]), script=v["script"], tags=listed(v["tags"]),
                dial_order=v["dial_order"], skip_invalid=yes(v["skip_invalid"]))

        self._create("New call campaign (power dialer)", [
            Field("name", "Name"), *LIST_FIELDS, *CSV_FIELDS,
            Field("country", "Country (ISO)", self._country()),
            Field("attempts", "Attempts per number (1-10)", "1"),
            Field("retry_minutes", "Retry delay (minutes)", "60"),
            Field("dial_order", "Dial order", "agent-first", "agent-first or customer-first"),
            Field("agents", "Agents (e-mails)", placeholder="ana@acme.fr, bob@acme.fr"),
            Field("groups", "Groups", placeholder="Sales, Support"), Field("script", "Script"),
            Field("tags", "Tags", placeholder="Hot, Renewal"), SKIP_FIELD,
        ], create, lambda r: (f"Call campaign {r['name']!r} created ({r['recipients']:,} of at most "
                              f"{r['contact_limit']:,} contacts). Launch it with l."))

    def action_new_voice(self) -> None:
        from ringtui.services.campaigns import voice

        def create(op: Any, v: dict[str, str]) -> dict[str, Any]:
            if not v["message_file"]:
                raise Invalid("give the recorded message: a .wav or .mp3 file")
            return voice.create_voice_campaign(
                op, v["name"], from_number=v["from_number"],
                message_file=Path(v["message_file"]).expanduser(), recipients=path_or_none(v["recipients"]),
                to=optional(v["to"]), country=optional(v["country"]), skip_invalid=yes(v["skip_invalid"]))

        self._create("New voice-message campaign", [
            Field("name", "Name"), Field("from_number", "From (an account number)"),
            Field("message_file", "Message (.wav or .mp3 file)"), *LIST_FIELDS,
            Field("country", "Country (ISO)", self._country()), SKIP_FIELD,
        ], create, lambda r: f"Voice campaign {r['name']!r} created: a {r['audio_seconds']:.1f} s message.")

    def action_sms_access(self) -> None:
        from ringtui.services.campaigns import access

        screen: Any = self

        def submit(op: Any, v: dict[str, str]) -> str:
            result = access.request_sms_access(op, v["reason"])
            return (f"Access to SMS campaigns requested for {result['user']}; the account owner decides "
                    "(A on this screen).")

        screen.open_form("Ask the account owner for SMS campaigns", [Field("reason", "Why you need them")],
                         submit)

    def action_sms_decide(self) -> None:
        from ringtui.services.campaigns import access

        screen: Any = self

        def submit(op: Any, v: dict[str, str]) -> str:
            decision = v["decision"].strip().lower()
            if decision not in ("approve", "refuse"):
                raise Invalid(f"decision {v['decision']!r}: give approve or refuse")
            result = access.decide_sms_access(op, v["user"], approve=decision == "approve")
            return f"{result['user']}: SMS campaign access {result['status']}."

        requests = screen.call(access.list_sms_requests) or []
        waiting = [r["user"] for r in requests if r["status"] == "pending"]
        screen.open_form("Decide an SMS campaign access request (account owner)", [
            Field("user", "The user who asked (e-mail)", waiting[0] if waiting else "",
                  f"waiting: {', '.join(waiting)}" if waiting else "nobody is waiting"),
            Field("decision", "approve or refuse", "approve"),
        ], submit)
