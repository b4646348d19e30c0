"""`ringtui numbers ...`: finding, adding, assigning, releasing and porting in numbers (N1-N4)."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import info, render_object, render_rows

NAME = "numbers"
HELP = ("Search the inventory, add numbers, assign them to users, IVRs or conferences, release them, "
        "and port numbers in.")
app = typer.Typer(no_args_is_help=True)

LIST_COLUMNS = ["number", "country", "format", "region", "status", "assigned_to", "label"]
PORT_COLUMNS = ["number", "country", "format", "region", "status", "requested_at", "expected_by",
                "completed_at", "documents"]

NumberArgument = Annotated[str, typer.Argument(
    help="The number, in E.164 (+33...) or in the national form of the account's country.")]


@app.command("search")
def search(
    country: Annotated[str, typer.Option("--country", help="ISO country code, e.g. FR, ES, GB, US.")],
    number_format: Annotated[str, typer.Option("--format", help="national, mobile or local.")],
    region: Annotated[str | None, typer.Option(
        "--region", help="Only numbers of this region or city (case-insensitive).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many numbers to show (1..100).")] = 10,
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """Search numbers the account may add (N2); numbers it holds already are left out."""
    from ringtui.services import numbers

    with operation() as op:
        rows = numbers.search(op, country, number_format, region=region, limit=limit)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=LIST_COLUMNS, title="Available numbers")


@app.command("add")
def add(
    number: NumberArgument,
    address: Annotated[str | None, typer.Option(
        "--address", help="Address in the number's city; required for a local number.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a number to the account's available numbers (N1, N2); it is billed monthly."""
    from ringtui.services import numbers

    with operation() as op:
        result = numbers.add_number(op, number, address=address)
    info(f"Added {result['number']} ({result['format']}, {result['region']}); the monthly invoice grows by "
         f"one number: {numbers.MONTHLY_PRICE_EUR} EUR excl. VAT per month.")
    render_object(result, as_json=as_json)


@app.command("list")
def list_(
    available: Annotated[bool, typer.Option("--available", help="Only numbers assigned to nobody.")] = False,
    assigned: Annotated[bool, typer.Option("--assigned", help="Only assigned numbers.")] = False,
    country: Annotated[str | None, typer.Option("--country", help="Only numbers of this country.")] = None,
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """List the account's numbers and what each is assigned to."""
    if available and assigned:
        raise typer.BadParameter("give --available or --assigned, not both")
    from ringtui.services import numbers
    from ringtui.vocab import NumberStatus

    status = NumberStatus.AVAILABLE if available else NumberStatus.ASSIGNED if assigned else None
    with operation() as op:
        rows = numbers.list_numbers(op, status=status, country=country)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=LIST_COLUMNS, title="Numbers")


@app.command("assign")
def assign(
    number: NumberArgument,
    user: Annotated[str | None, typer.Option("--user", help="E-mail of the user who gets it.")] = None,
    ivr: Annotated[str | None, typer.Option("--ivr", help="Name of the IVR that answers the number.")] = None,
    conference: Annotated[str | None, typer.Option(
        "--conference", help="Name of the conference room (created if new).")] = None,
    label: Annotated[str | None, typer.Option("--label", help="A label, e.g. 'Sales FR'.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Assign an available number to one user, IVR or conference (N3)."""
    from ringtui.services import numbers

    with operation() as op:
        result = numbers.assign(op, number, user=user, ivr=ivr, conference=conference, label=label)
    render_object(result, as_json=as_json)


@app.command("release")
def release(number: NumberArgument, as_json: JsonFlag = False) -> None:
    """Release an assigned number; it becomes available again (N3)."""
    from ringtui.services import numbers

    with operation() as op:
        result = numbers.release(op, number)
    render_object(result, as_json=as_json)


@app.command("port")
def port(
    number: NumberArgument,
    document: Annotated[list[str], typer.Option(
        "--document", help="KIND=PATH, KIND one of request, bill, identity; all three are required.")],
    as_json: JsonFlag = False,
) -> None:
    """Port an existing number in (N4): the porting request, last bill and an identity document."""
    from ringtui.services import numbers

    with operation() as op:
        result = numbers.port_number(op, number, document)
    info(f"Port request for {result['number']} filed; expected by {result['expected_by']}.")
    render_object(result, as_json=as_json)


@app.command("ports")
def ports(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """List port requests with their status and expected date."""
    from ringtui.services import numbers

    with operation() as op:
        rows = numbers.list_ports(op)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=PORT_COLUMNS, title="Port requests")


@app.command("port-status")
def port_status(
    number: NumberArgument,
    status: Annotated[str, typer.Argument(
        help="in_progress; completed (the number becomes available); rejected (the number is removed).")],
    as_json: JsonFlag = False,
) -> None:
    """Record how a port request is going (admins)."""
    from ringtui.services import numbers

    with operation() as op:
        result = numbers.set_port_status(op, number, status)
    render_object(result, as_json=as_json)
