"""`ringtui stats ...`: call statistics (S1, S2) and the per-agent leaderboard (S5)."""

from __future__ import annotations

import typer

from ringtui.commands._filters import (
    CallDirection,
    CallType,
    Country,
    GroupName,
    Hours,
    IvrName,
    Period,
    Scope,
    TagName,
    UserEmail,
    filter_options,
)
from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import render_object, render_rows

NAME = "stats"
HELP = "Statistics: call indicators and the per-agent leaderboard, with filters."
app = typer.Typer(no_args_is_help=True)

LEADERBOARD_COLUMNS = ["agent", "out", "answered", "toolate", "call_answered", "no_answer", "rejected",
                       "incall", "snooze", "planning", "notconnected", "sip_phone_error", "talk_s"]


@app.command("calls")
def calls(
    period: Period = None, hours: Hours = None, scope: Scope = None, ivr: IvrName = None,
    group: GroupName = None, user: UserEmail = None, country: Country = None, tag: TagName = None,
    direction: CallDirection = None, type_: CallType = None, as_json: JsonFlag = False,
) -> None:
    """Call indicators: totals, service level, waits, talk times, missed-call handling."""
    from ringtui.services import stats

    options = filter_options(period=period, hours=hours, scope=scope, ivr=ivr, group=group, user=user,
                             country=country, tag=tag, direction=direction, type=type_)
    with operation() as op:
        figures = stats.call_stats(op, options)
    render_object(figures, as_json=as_json, title="Calls")


@app.command("leaderboard")
def leaderboard(
    period: Period = None, hours: Hours = None, scope: Scope = None, ivr: IvrName = None,
    group: GroupName = None, user: UserEmail = None, country: Country = None, tag: TagName = None,
    direction: CallDirection = None, type_: CallType = None,
    as_json: JsonFlag = False, as_csv: CsvFlag = False,
) -> None:
    """Per agent: ring attempts by outcome (OUT, ANSWERED, TOOLATE, ...) and talk time."""
    from ringtui.services import stats

    options = filter_options(period=period, hours=hours, scope=scope, ivr=ivr, group=group, user=user,
                             country=country, tag=tag, direction=direction, type=type_)
    with operation() as op:
        rows = stats.leaderboard(op, options)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=LEADERBOARD_COLUMNS, title="Leaderboard")
