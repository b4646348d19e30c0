"""`ringtui ivr ...`: IVRs, their scenario steps, opening hours and scenario files (I1-I3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import info, render_object, render_rows

NAME = "ivr"
HELP = "Create, list, show and delete IVRs; edit their scenarios and opening hours."
app = typer.Typer(no_args_is_help=True)
step_app = typer.Typer(no_args_is_help=True)
app.add_typer(step_app, name="step", help="Add, list and remove the steps of an IVR's scenario.")

STEP_COLUMNS = ["position", "name", "type", "settings", "skip_if"]


@app.command("create")
def create(
    name: str,
    record: Annotated[bool, typer.Option(
        "--record", help="Record inbound and outbound conversations.")] = False,
    vip: Annotated[list[str] | None, typer.Option(
        "--vip", help="VIP number, served first in the waiting list (repeatable).")] = None,
    anonymous: Annotated[str, typer.Option("--anonymous", help="allow or reject anonymous calls.")] = "allow",
    script: Annotated[str, typer.Option("--script", help="Outbound call script shown to agents.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Create an IVR."""
    from ringtui.services import ivrs

    with operation() as op:
        result = ivrs.create_ivr(op, name, record=record, vip_numbers=vip or [], anonymous=anonymous,
                                 script=script)
    render_object(result, as_json=as_json)


@app.command("list")
def list_(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """List IVRs."""
    from ringtui.services import ivrs

    with operation() as op:
        rows = ivrs.list_ivrs(op)
    render_rows(rows, as_json=as_json, as_csv=as_csv, title="IVRs",
                columns=["name", "numbers", "record_inbound", "anonymous", "vip_numbers"])


@app.command("show")
def show(name: str, as_json: JsonFlag = False) -> None:
    """Show one IVR."""
    from ringtui.services import ivrs

    with operation() as op:
        result = ivrs.show_ivr(op, name)
    _render_ivr(result, as_json=as_json)


def _render_ivr(result: dict[str, Any], *, as_json: bool) -> None:
    """JSON: the whole IVR; for people: its settings, then its steps as a table."""
    if as_json:
        render_object(result, as_json=True)
        return
    # the hours are shown as text; opening_hours is their structured form for scripts
    render_object({key: value for key, value in result.items() if key not in ("steps", "opening_hours")})
    render_rows(result["steps"], columns=STEP_COLUMNS, title=f"Scenario of {result['name']}")


@app.command("delete")
def delete(name: str, as_json: JsonFlag = False) -> None:
    """Delete an IVR; its numbers become available again."""
    from ringtui.services import ivrs

    with operation() as op:
        result = ivrs.delete_ivr(op, name)
    info(f"Deleted IVR {result['name']}; released {len(result['numbers'])} number(s).")
    render_object(result, as_json=as_json)


@app.command("hours")
def hours(
    name: str,
    schedule: Annotated[str | None, typer.Argument(
        help="Opening hours in the account's time zone: 'mon-fri 09:00-18:00; sat 10:00-12:00'.")] = None,
    always_open: Annotated[bool, typer.Option(
        "--always-open", help="Open at all hours (clears the hours and the closed step).")] = False,
    closed_step: Annotated[str | None, typer.Option(
        "--closed-step", help="Step run for calls outside opening hours (default: hang up).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set an IVR's opening hours and the step run outside them."""
    from ringtui.services import ivrs

    with operation() as op:
        result = ivrs.set_hours(op, name, schedule, always_open=always_open, closed_step=closed_step)
    closed = result["closed_step"] or "none (hang up)"
    info(f"IVR {result['name']}: {result['hours']}; closed step: {closed}.")
    _render_ivr(result, as_json=as_json)


@app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(
        help="TOML file of [[ivr]] tables with their [[ivr.step]] arrays (see examples/ivr-standard.toml).")],
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """Create or update IVRs so they match a scenario file exactly (idempotent; all or nothing)."""
    from ringtui.services import ivrs

    with operation() as op:
        rows = ivrs.apply_file(op, file)
    if all(row["result"] == "unchanged" for row in rows):
        info(f"Nothing to change: every IVR of {file} already matches it.")
    else:
        info("; ".join(f"{row['name']}: {row['result']}" for row in rows))
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=["name", "result", "steps"], title="IVRs")


@step_app.command("add")
def step_add(
    name: Annotated[str, typer.Argument(help="The IVR.")],
    step_type: Annotated[str, typer.Option(
        "--type", help="announce, menu, ring, queue, voicemail, forward or survey.")],
    step_name: Annotated[str | None, typer.Option(
        "--name", help="Name menus and exits use for the step (default generated, e.g. ring-2).")] = None,
    text: Annotated[str | None, typer.Option(
        "--text", help="What is said: announce, menu prompt, voicemail greeting, survey question.")] = None,
    sound: Annotated[str | None, typer.Option("--sound", help="Named sound an announce step plays.")] = None,
    choice: Annotated[list[str] | None, typer.Option(
        "--choice", help="Menu: DIGIT=STEP, digit 0-9, * or # (repeatable).")] = None,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", help="Menu: seconds to wait for a key, 1-60 (default 8).")] = None,
    default: Annotated[str | None, typer.Option(
        "--default", help="Menu: step taken when no key is pressed.")] = None,
    agent: Annotated[list[str] | None, typer.Option(
        "--agent", help="Ring/queue: e-mail of a user to ring (repeatable).")] = None,
    group: Annotated[list[str] | None, typer.Option(
        "--group", help="Ring/queue: group whose members ring (repeatable).")] = None,
    strategy: Annotated[str | None, typer.Option(
        "--strategy", help="Ring/queue: ring-all, longest-idle, round-robin, fewest-calls, "
                           "least-talk-time, linear, random or weighted-random.")] = None,
    ring_seconds: Annotated[int | None, typer.Option(
        "--ring-seconds", help="Ring/queue: seconds an agent rings, 5-300 (default 20).")] = None,
    weight: Annotated[list[str] | None, typer.Option(
        "--weight", help="Ring/queue with weighted-random: EMAIL=WEIGHT, 1-100 (repeatable).")] = None,
    max_wait: Annotated[float | None, typer.Option(
        "--max-wait", help="Queue: longest wait in seconds, 10-7200 (default 300).")] = None,
    exit_step: Annotated[str | None, typer.Option(
        "--exit", help="Queue: step taken when the longest wait runs out.")] = None,
    mailbox: Annotated[str | None, typer.Option(
        "--mailbox", help="Voicemail: e-mail of the user whose voicemail it is (default the IVR's).")] = None,
    number: Annotated[str | None, typer.Option(
        "--number", help="Forward: number to forward to (national or international form).")] = None,
    category: Annotated[str | None, typer.Option(
        "--category", help="Survey: category of the answer.")] = None,
    position: Annotated[int | None, typer.Option(
        "--position", help="Where the step goes, 1 = first (default last).")] = None,
    skip_if: Annotated[str | None, typer.Option(
        "--skip-if", help="Ring/queue: go to the next step when all agents are offline, snooze, "
                          "out-of-hours or in-call (comma-separated).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a step to an IVR's scenario."""
    from ringtui.services import ivrs

    with operation() as op:
        result = ivrs.add_step(
            op, name, step_type, name=step_name, position=position, text=text, sound=sound,
            choices=choice or [], timeout=timeout, default=default, agents=agent or [], groups=group or [],
            strategy=strategy, ring_seconds=ring_seconds, weights=weight or [], max_wait=max_wait,
            exit=exit_step, mailbox=mailbox, number=number, category=category, skip_if=skip_if)
    info(f"Added step {result['name']} ({result['type']}) to {result['ivr']}, position {result['position']}.")
    render_object(result, as_json=as_json)


@step_app.command("list")
def step_list(
    name: Annotated[str, typer.Argument(help="The IVR.")],
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """List the steps of an IVR's scenario, in order."""
    from ringtui.services import ivrs

    with operation() as op:
        rows = ivrs.list_steps(op, name)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=STEP_COLUMNS, title=f"Scenario of {name}")


@step_app.command("remove")
def step_remove(
    name: Annotated[str, typer.Argument(help="The IVR.")],
    step: Annotated[str, typer.Argument(help="Name of the step to remove.")],
    as_json: JsonFlag = False,
) -> None:
    """Remove a step from an IVR's scenario (refused while another step points to it)."""
    from ringtui.services import ivrs

    with operation() as op:
        result = ivrs.remove_step(op, name, step)
    info(f"Removed step {result['name']} from {result['ivr']}.")
    render_object(result, as_json=as_json)
