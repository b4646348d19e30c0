"""`ringtui contacts ...`: the shared address book (T2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, SkipInvalid, operation
from ringtui.output import info, render_object, render_rows

NAME = "contacts"
HELP = "Add, import (.csv / .txt), search, list and remove contacts."
app = typer.Typer(no_args_is_help=True)

LIST_COLUMNS = ["id", "name", "company", "numbers", "fields", "created_at"]
IMPORT_COLUMNS = ["id", "filename", "imported_count", "skipped_count", "actor_email", "imported_at"]

CountryOption = Annotated[str | None, typer.Option(
    "--country", help="ISO2 country of numbers given in national form (default: the account's).")]


@app.command("add")
def add(
    name: Annotated[str | None, typer.Option("--name", help="Contact name.")] = None,
    number: Annotated[list[str] | None, typer.Option(
        "--number", help="Phone number, national or +CC... (repeatable).")] = None,
    company: Annotated[str | None, typer.Option("--company", help="Company of the contact.")] = None,
    field: Annotated[list[str] | None, typer.Option(
        "--field", help="Custom field KEY=VALUE (repeatable).")] = None,
    country: CountryOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a contact by hand (a name, a number, or both)."""
    from ringtui.services import contacts

    with operation() as op:
        result = contacts.add_contact(op, name=name, numbers=number or [], company=company,
                                      fields=field or [], country=country)
    info(f"Contact {result['id']} added.")
    render_object(result, as_json=as_json)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(
        help=".csv with a header (name, number or phone, company; other columns become custom fields; "
             "several numbers in a cell separated by ';') or .txt (one contact a line: NUMBER, NAME;NUMBER "
             "or NAME,NUMBER).")],
    skip_invalid: SkipInvalid = False,
    country: CountryOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import contacts from a file, all or nothing unless --skip-invalid."""
    from zoneinfo import ZoneInfo

    from ringtui.services import contacts

    with operation() as op:
        result = contacts.import_contacts(op, file, skip_invalid=skip_invalid, country=country)
    for line, message in result["invalid"]:
        info(f"line {line}: {message}")
    when = result["imported_at"].astimezone(ZoneInfo(op.account.timezone))
    info(f"Imported {result['imported_count']} contact(s) from {result['filename']} on "
         f"{when:%Y-%m-%d at %H:%M:%S %Z}; {result['skipped_count']} bad line(s) skipped.")
    render_object(result, as_json=as_json)


@app.command("imports")
def imports(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """List past imports, newest first: file, counts, who and when."""
    from ringtui.services import contacts

    with operation() as op:
        rows = contacts.list_imports(op)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=IMPORT_COLUMNS, title="Contact imports")


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(
        help="Part of a name (any case), or the start of a number (+33 1..., 0033 1..., 01...).")],
    limit: Annotated[int, typer.Option("--limit", help="At most this many contacts.")] = 50,
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """Find contacts by name or by number prefix."""
    from ringtui.services import contacts

    with operation() as op:
        rows = contacts.search_contacts(op, query, limit=limit)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=LIST_COLUMNS,
                title=f"Contacts matching {query}")


@app.command("list")
def list_(
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many contacts.")] = None,
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """List contacts by name."""
    from ringtui.services import contacts

    with operation() as op:
        rows = contacts.list_contacts(op, limit=limit)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=LIST_COLUMNS, title="Contacts")


@app.command("remove")
def remove(
    contact_id: Annotated[int, typer.Argument(metavar="ID", help="Contact id (see `contacts list`).")],
    as_json: JsonFlag = False,
) -> None:
    """Remove a contact and its numbers."""
    from ringtui.services import contacts

    with operation() as op:
        result = contacts.remove_contact(op, contact_id)
    info(f"Contact {result['id']} removed.")
    render_object(result, as_json=as_json)
