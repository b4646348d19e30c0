"""`ringtui campaign ...`: SMS campaigns (K1) and the life of every campaign; SMS access requests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ringtui.commands import account as account_commands
from ringtui.commands._runtime import CsvFlag, JsonFlag, SkipInvalid, operation
from ringtui.output import info, render_object, render_rows

if TYPE_CHECKING:
    from ringtui.services.base import Operation

NAME = "campaign"
HELP = "SMS, call and voice-message campaigns: create, launch, pause, resume, watch (K1-K3)."
app = typer.Typer(no_args_is_help=True)
sms_app = typer.Typer(no_args_is_help=True)
app.add_typer(sms_app, name="sms", help="SMS campaigns (business, advanced): access requests and creation.")
calls_app = typer.Typer(no_args_is_help=True)
app.add_typer(calls_app, name="calls",
              help="Call campaigns for the power dialer (advanced, power dialer on).")

LIST_COLUMNS = ["name", "kind", "status", "recipients", "done", "pending", "created_by", "created_at",
                "launched_at", "finished_at"]
REQUEST_COLUMNS = ["user", "status", "reason", "requested_at", "decided_by", "decided_at"]

NameArg = Annotated[str, typer.Argument(help="The campaign's name.")]
ColumnOption = Annotated[list[str] | None, typer.Option(
    "--column", help="Name a CSV column: COL=name|company|address|custom:LABEL (repeatable).")]
LaunchFlag = Annotated[bool, typer.Option(
    "--launch", help="Launch it at once, in the same transaction (create and launch).")]
PhoneColumnOption = Annotated[str | None, typer.Option(
    "--phone-column", help="The CSV column holding the numbers (header name or number from 1).")]


def _launch_if_asked(op: Operation, result: dict, launch: bool) -> dict:
    """`--launch`: the campaign just created is launched before the transaction commits."""
    if not launch:
        return result
    from ringtui.services.campaigns import lifecycle

    launched = lifecycle.launch(op, result["name"])
    return result | {"status": launched["status"], "launched_at": launched["launched_at"]}


def _report_list(result: dict) -> None:
    for line, message in result.get("invalid_lines", []):
        info(f"line {line}: {message} (skipped)")
    info(f"{result['recipients']:,} recipient(s); {result['duplicates']:,} duplicate(s), "
         f"{result['invalid']:,} invalid, {result['blacklisted']:,} blacklisted left out.")


@sms_app.command("create")
def sms_create(
    name: NameArg,
    sender: Annotated[str, typer.Option(
        "--sender", help="Sender: a phone number or a name of up to 11 characters.")],
    country: Annotated[str, typer.Option("--country", help="ISO country of numbers typed in national form.")],
    message: Annotated[str | None, typer.Option("--message", help="The text to send.")] = None,
    message_file: Annotated[Path | None, typer.Option(
        "--message-file", help="Read the text from a file.")] = None,
    recipients: Annotated[Path | None, typer.Option(
        "--recipients", help="A .csv or .txt file of numbers (one per line or comma-separated).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Numbers typed: N,N,... or one per line.")] = None,
    phone_column: PhoneColumnOption = None,
    column: ColumnOption = None,
    skip_invalid: SkipInvalid = False,
    launch: LaunchFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Create an SMS campaign (draft): encoding, fragments and estimated cost; `campaign launch` sends it."""
    from ringtui.services.campaigns import sms

    with operation() as op:
        result = sms.create_sms_campaign(
            op, name, sender=sender, country=country, message=message, message_file=message_file,
            recipients=recipients, to=to, phone_column=phone_column, columns=column or (),
            skip_invalid=skip_invalid)
        result = _launch_if_asked(op, result, launch)
    _report_list(result)
    then = ("Launched: a running engine sends it." if launch
            else f"Send it with `ringtui campaign launch {result['name']}`.")
    info(f"Campaign {result['name']!r} created: {result['fragments_per_message']} {result['encoding']} "
         f"fragment(s) per SMS, estimated cost {result['estimated_cost']:.2f}. {then}")
    render_object({k: v for k, v in result.items() if k != "invalid_lines"} if not as_json else result,
                  as_json=as_json, title="SMS campaign")


@sms_app.command("request-access")
def sms_request_access(
    reason: Annotated[str, typer.Option("--reason", help="Why you need SMS campaigns.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Ask the account owner for access to SMS campaigns."""
    from ringtui.services.campaigns import access

    with operation() as op:
        result = access.request_sms_access(op, reason)
    info(f"Access to SMS campaigns requested for {result['user']}; the account owner decides "
         f"(`ringtui campaign sms approve {result['user']}`).")
    render_object(result, as_json=as_json)


def _decide(email: str, approve: bool, as_json: bool) -> None:
    from ringtui.services.campaigns import access

    with operation() as op:
        result = access.decide_sms_access(op, email, approve=approve)
    info(f"{result['user']}: SMS campaign access {result['status']}.")
    render_object(result, as_json=as_json)


@sms_app.command("approve")
def sms_approve(email: Annotated[str, typer.Argument(help="The user who asked.")],
                as_json: JsonFlag = False) -> None:
    """Approve a user's pending request for SMS campaigns (account owner)."""
    _decide(email, True, as_json)


@sms_app.command("refuse")
def sms_refuse(email: Annotated[str, typer.Argument(help="The user who asked.")],
               as_json: JsonFlag = False) -> None:
    """Refuse a user's pending request for SMS campaigns (account owner)."""
    _decide(email, False, as_json)


@sms_app.command("requests")
def sms_requests(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """SMS campaign access requests (an admin sees everyone's, a supervisor their own)."""
    from ringtui.services.campaigns import access

    with operation() as op:
        rows = access.list_sms_requests(op)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=REQUEST_COLUMNS, title="SMS access requests")


@calls_app.command("create")
def calls_create(
    name: NameArg,
    file: Annotated[Path | None, typer.Option(
        "--file", help="A .csv contact list (or .txt of numbers); see `campaign sample calls`.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Numbers typed: N,N,... or one per line.")] = None,
    phone_column: PhoneColumnOption = None,
    column: ColumnOption = None,
    country: Annotated[str | None, typer.Option(
        "--country", help="ISO country of national numbers (default: the account's).")] = None,
    attempts: Annotated[int, typer.Option(
        "--attempts", help="Calls per number while unanswered (1-10).")] = 1,
    retry_minutes: Annotated[int, typer.Option(
        "--retry-minutes", help="Minutes before calling an unanswered number again.")] = 60,
    agent: Annotated[list[str] | None, typer.Option("--agent", help="A user who calls (repeatable).")] = None,
    group: Annotated[list[str] | None, typer.Option(
        "--group", help="A group whose users call (repeatable).")] = None,
    script: Annotated[str, typer.Option("--script", help="What the agent says, shown during the call.")] = "",
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag for the calls (repeatable).")] = None,
    dial_order: Annotated[str, typer.Option(
        "--dial-order", help="agent-first (the agent's phone rings, then the customer's) or customer-first.")
    ] = "agent-first",
    skip_invalid: SkipInvalid = False,
    launch: LaunchFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a call campaign (draft) for the power dialer: list, who calls, attempts, script, tags."""
    from ringtui.services.campaigns import calls

    with operation() as op:
        result = calls.create_call_campaign(
            op, name, file=file, to=to, phone_column=phone_column, columns=column or (), country=country,
            attempts=attempts, retry_minutes=retry_minutes, agents=agent or (), groups=group or (),
            script=script, tags=tag or (), dial_order=dial_order, skip_invalid=skip_invalid)
        result = _launch_if_asked(op, result, launch)
    _report_list(result)
    info(f"Call campaign {result['name']!r} created ({result['recipients']:,} of at most "
         f"{result['contact_limit']:,} contacts).")
    render_object({k: v for k, v in result.items() if k != "invalid_lines"} if not as_json else result,
                  as_json=as_json, title="Call campaign")


voice_app = typer.Typer(no_args_is_help=True)
app.add_typer(voice_app, name="voice", help="Voice-message campaigns (advanced, power dialer on).")


@voice_app.command("create")
def voice_create(
    name: NameArg,
    from_number: Annotated[str, typer.Option("--from", help="The account's number the calls come from.")],
    message_file: Annotated[Path, typer.Option(
        "--message-file", help="The recorded message: a .wav or .mp3 file (converted once to 8 kHz).")],
    recipients: Annotated[Path | None, typer.Option(
        "--recipients", help="A .csv or .txt file of numbers.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Numbers typed: N,N,... or one per line.")] = None,
    country: Annotated[str | None, typer.Option(
        "--country", help="ISO country of national numbers (default: the account's).")] = None,
    skip_invalid: SkipInvalid = False,
    launch: LaunchFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a voice-message campaign (draft): each number is called and hears the message."""
    from ringtui.services.campaigns import voice

    with operation() as op:
        result = voice.create_voice_campaign(op, name, from_number=from_number, message_file=message_file,
                                             recipients=recipients, to=to, country=country,
                                             skip_invalid=skip_invalid)
        result = _launch_if_asked(op, result, launch)
    _report_list(result)
    info(f"Voice campaign {result['name']!r} created: a {result['audio_seconds']:.1f} s message.")
    render_object({k: v for k, v in result.items() if k != "invalid_lines"} if not as_json else result,
                  as_json=as_json, title="Voice campaign")


@app.command("list")
def list_(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """Every campaign with its progress."""
    from ringtui.services.campaigns import lifecycle

    with operation() as op:
        rows = lifecycle.list_campaigns(op)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=LIST_COLUMNS, title="Campaigns")


@app.command("show")
def show(name: NameArg, as_json: JsonFlag = False) -> None:
    """One campaign: its settings and recipients by status."""
    from ringtui.services.campaigns import lifecycle

    with operation() as op:
        result = lifecycle.show_campaign(op, name)
    render_object(result, as_json=as_json, title=f"Campaign {result['name']}")


def _lifecycle(verb: str, name: str, as_json: bool, done: str) -> None:
    from ringtui.services.campaigns import lifecycle

    with operation() as op:
        result = getattr(lifecycle, verb)(op, name)
    info(f"Campaign {result['name']!r} {done}.")
    render_object(result, as_json=as_json, title=f"Campaign {result['name']}")


@app.command("launch")
def launch(name: NameArg, as_json: JsonFlag = False) -> None:
    """Launch a draft campaign: the running engine starts it within a second."""
    _lifecycle("launch", name, as_json, "launched; a running engine (`ringtui engine run`) sends it")


@app.command("pause")
def pause(name: NameArg, as_json: JsonFlag = False) -> None:
    """Pause a running campaign; nothing more is sent until it is resumed."""
    _lifecycle("pause", name, as_json, "paused")


@app.command("resume")
def resume(name: NameArg, as_json: JsonFlag = False) -> None:
    """Resume a paused campaign where it stopped."""
    _lifecycle("resume", name, as_json, "resumed")


@app.command("sample")
def sample(
    kind: Annotated[str, typer.Argument(help="calls (a CSV contact list) or sms (a .txt list).")],
) -> None:
    """Print a sample recipient list to start from."""
    from ringtui.services.campaigns.recipients import sample_list

    typer.echo(sample_list(kind), nl=False)


@account_commands.app.command("power-dialer")
def power_dialer(
    state: Annotated[str, typer.Argument(help="on or off.")],
    as_json: JsonFlag = False,
) -> None:
    """Turn the power dialer on or off (K2: call and voice campaigns need it; admin, advanced plan)."""
    wanted = state.strip().lower()
    if wanted not in ("on", "off"):
        raise typer.BadParameter(f"{state!r}: give on or off", param_hint="STATE")
    from ringtui.services.campaigns import access

    with operation() as op:
        result = access.set_power_dialer(op, wanted == "on")
    info(f"The power dialer is {'now ' if result['changed'] else ''}{wanted}.")
    render_object(result, as_json=as_json)
