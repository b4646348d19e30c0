"""`ringtui stats ...`: call statistics (S1, S2), history (S3), heatmap (S4) and the leaderboard (S5)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ringtui.commands._filters import MeetingTagName, with_filters
from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import info, render_object, render_rows

if TYPE_CHECKING:
    from ringtui.services.filters import FilterOptions

NAME = "stats"
HELP = "Statistics: call indicators, history, heatmap and the per-agent leaderboard, with filters."
app = typer.Typer(no_args_is_help=True)

LEADERBOARD_COLUMNS = ["agent", "out", "answered", "toolate", "call_answered", "no_answer", "rejected",
                       "incall", "snooze", "planning", "notconnected", "sip_phone_error", "talk_s"]


Threshold = Annotated[int | None, typer.Option("--threshold", help=(
    "Also give service_level_within: inbound calls answered within this many seconds of waiting, "
    "over inbound calls (1..3600)."))]


@app.command("calls")
@with_filters()
def calls(
    threshold: Threshold = None,
    *, filters: FilterOptions,
    as_json: JsonFlag = False,
) -> None:
    """Call indicators: totals, service level, waits, talk times, missed-call handling; with --ivr, also
    the maximum time before abandon and why calls were not answered (not_answered)."""
    from ringtui.services import stats

    with operation() as op:
        figures = stats.call_stats(op, filters)
        figures |= stats.single_ivr_figures(op, filters)
        if threshold is not None:
            figures |= stats.service_level_within(op, threshold, filters)
    render_object(figures, as_json=as_json, title="Calls")


@app.command("leaderboard")
@with_filters()
def leaderboard(
    *, filters: FilterOptions,
    as_json: JsonFlag = False, as_csv: CsvFlag = False,
) -> None:
    """Per agent: ring attempts by outcome (OUT, ANSWERED, TOOLATE, ...) and talk time."""
    from ringtui.services import stats

    with operation() as op:
        rows = stats.leaderboard(op, filters)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=LEADERBOARD_COLUMNS, title="Leaderboard")


RebuildPeriod = Annotated[str | None, typer.Option("--period", help=(
    "Recompute only the days of this period (today, yesterday, this-week, last-week, this-month, "
    "last-month or YYYY-MM-DD..YYYY-MM-DD); default: the whole history."))]


@app.command("rebuild")
def rebuild(period: RebuildPeriod = None, as_json: JsonFlag = False) -> None:
    """Recompute the hourly roll-ups the statistics answer from, and fill the customers' area codes
    (stats geo) that older records lack (caller_areas_filled), in one transaction."""
    from ringtui.services import rollups

    with operation() as op:
        written = rollups.rebuild(op, period)
    render_object(written, as_json=as_json, title="Roll-ups rebuilt")


Interval = Annotated[str, typer.Option("--interval", help="hour, day, week (from Monday) or month.")]
Indicator = Annotated[str | None, typer.Option("--indicator", help=(
    "total_calls (default), inbound_calls, outbound_calls, answered_calls, missed_calls, service_level, "
    "total_duration_s, avg_wait_s, max_wait_s, avg_abandon_s, avg_talk_in_s, max_talk_in_s, "
    "avg_talk_out_s or max_talk_out_s."))]


Channel = Annotated[str, typer.Option("--channel", help=(
    "calls (default), sms (indicators total_sms, sent_sms, received_sms, direct_sms, campaign_sms, "
    "total_fragments, unicode_sms, total_price, avg_response_s, unanswered_sms) or omnichannel "
    "(total_messages, sent_messages, received_messages, avg_response_s, unanswered_messages)."))]


HistoryOut = Annotated[Path | None, typer.Option("--out", help=(
    "Also draw the history into this PNG or JPEG file (FILE.png, FILE.jpg; Advanced plan)."))]


HistoryChannel = Annotated[str, typer.Option("--channel", help=(
    "calls (default), sms, omnichannel (indicators as for the heatmap) or surveys (avg_rating, the "
    "default, or answers)."))]


@app.command("history")
@with_filters()
def history(
    interval: Interval, indicator: Indicator = None, channel: HistoryChannel = "calls",
    out: HistoryOut = None,
    *, filters: FilterOptions,
    as_json: JsonFlag = False,
) -> None:
    """An indicator over time, per local hour, day, week or month (empty buckets left out)."""
    from ringtui.services import stats_messages

    with operation() as op:
        figures = stats_messages.history(op, channel, interval, indicator, filters)
        zone = op.account.timezone or "UTC"
        if out is not None:
            from ringtui.services.report_images import save_history

            title = f"{figures['indicator']} per {figures['interval']} ({zone})"
            drawn = save_history(op, figures, out, title)
    if out is not None:
        info(f"History drawn into {drawn['file']} ({drawn['bytes']} bytes).")
    if as_json:
        render_object(figures, as_json=True)
    elif not figures["points"]:
        info(f"No {channel.strip().lower()} in the selection.")
    else:
        from ringtui.charts import history_chart

        typer.echo(history_chart(figures, zone))


HeatmapOut = Annotated[Path | None, typer.Option("--out", help=(
    "Also draw the heatmap into this PNG or JPEG file (FILE.png, FILE.jpg; Advanced plan)."))]


@app.command("heatmap")
@with_filters()
def heatmap(
    indicator: Indicator = None, channel: Channel = "calls", out: HeatmapOut = None,
    *, filters: FilterOptions,
    as_json: JsonFlag = False,
) -> None:
    """An indicator per local weekday and hour: 168 cells (counts 0 when empty, averages and ratios null)."""
    from ringtui.services import stats_messages

    with operation() as op:
        grid = stats_messages.heatmap(op, channel, indicator, filters)
        zone = op.account.timezone or "UTC"
        if out is not None:
            from ringtui.services.report_images import save_heatmap

            saved_image = save_heatmap(op, grid, out, f"{grid['indicator']} per weekday and hour ({zone})")
    if out is not None:
        info(f"Heatmap drawn into {saved_image['file']} ({saved_image['bytes']} bytes).")
    if as_json:
        render_object(grid, as_json=True)
    else:
        from ringtui.charts import heatmap_grid

        typer.echo(heatmap_grid(grid, zone))


TagSort = Annotated[str, typer.Option(
    "--sort", help="calls (most first, the default), name, or color (tags of one colour together).")]
CallerLimit = Annotated[int, typer.Option("--limit", help="At most this many customer numbers (1..1000).")]
TAG_COLUMNS = ["tag", "color", "calls", "talk_s"]
CALLER_COLUMNS = ["number", "calls", "answered", "missed", "talk_total_s", "talk_min_s", "talk_max_s",
                  "talk_avg_s", "received", "transferred", "transfer_ratio", "top_agent"]
CALLER_CSV_COLUMNS = [*CALLER_COLUMNS, "top_tags", "repeat_min_s", "repeat_max_s", "repeat_avg_s"]
GEO_COLUMNS = ["country", "calls", "answered", "inbound", "outbound"]
AREA_COLUMNS = ["area", "zone", "calls", "answered", "inbound", "outbound"]


@app.command("tags")
@with_filters()
def tags(
    sort: TagSort = "calls",
    *, filters: FilterOptions,
    as_json: JsonFlag = False, as_csv: CsvFlag = False,
) -> None:
    """Per tag: the calls that carry it and their total talk time."""
    from ringtui.services import stats

    with operation() as op:
        rows = stats.tag_stats(op, filters, sort)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=TAG_COLUMNS, title="Tags")


@app.command("callers")
@with_filters()
def callers(
    limit: CallerLimit = 20,
    *, filters: FilterOptions,
    as_json: JsonFlag = False, as_csv: CsvFlag = False,
) -> None:
    """Per customer number (most calls first): calls, answered, missed, talk times, received (inbound)
    calls, transferred (calls an agent handed on at least once), transfer_ratio (transferred received
    calls / received calls, 0..1), top agent; JSON and CSV add the top tags and the seconds between
    repeated inbound calls (min, max, average)."""
    from ringtui.services import stats

    with operation() as op:
        rows = stats.caller_stats(op, filters, limit)
    columns = CALLER_CSV_COLUMNS if as_csv else CALLER_COLUMNS
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=columns, title="Callers")


@app.command("geo")
@with_filters()
def geo(
    *, filters: FilterOptions,
    as_json: JsonFlag = False, as_csv: CsvFlag = False,
) -> None:
    """The 10 customer countries with most calls (calls, answered, inbound from / outbound to it) and the
    busiest zone; then the 10 busiest area codes ("+33 1" Paris, "+1 212" New York; customers on
    mobiles have none) with their zone name. CSV: the countries only."""
    from ringtui.services import stats

    with operation() as op:
        figures = stats.geo_stats(op, filters)
    if as_json:
        render_object(figures, as_json=True)
        return
    if as_csv:
        render_rows(figures["countries"], as_csv=True, columns=GEO_COLUMNS)
        return
    countries, areas = figures["countries"], figures["areas"]
    render_rows(countries, columns=GEO_COLUMNS, title="Countries", highlight=0 if countries else None)
    typer.echo(f"Busiest zone: {figures['busiest'] or 'none (no calls)'}")
    render_rows(areas, columns=AREA_COLUMNS, title="Area codes", highlight=0 if areas else None)
    busiest = areas[0] if areas else None
    named = f"{busiest['area']} ({busiest['zone']})" if busiest and busiest["zone"] else (
        busiest["area"] if busiest else "none (no calls from or to landlines)")
    typer.echo(f"Busiest area: {named}")


SurveyGrouping = Annotated[str, typer.Option(
    "--by", help="ivr (per IVR and category, the default) or agent.")]
SURVEY_COLUMNS = {"ivr": ["ivr", "category", "answers", "avg_rating"],
                  "agent": ["agent", "answers", "avg_rating"]}
SNOOZE_COLUMNS = ["agent", "reason", "periods", "snoozed_s"]


@app.command("surveys")
@with_filters()
def surveys(
    by: SurveyGrouping = "ivr",
    *, filters: FilterOptions,
    as_json: JsonFlag = False, as_csv: CsvFlag = False,
) -> None:
    """Survey answers and average rating (1-5) per IVR and category, or per agent (--by agent)."""
    from ringtui.services import stats

    with operation() as op:
        rows = stats.survey_stats(op, filters, by)
    columns = SURVEY_COLUMNS.get(by.strip().lower(), SURVEY_COLUMNS["ivr"])
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=columns, title="Surveys")


@app.command("snooze")
@with_filters("period", "hours", "group", "user", "saved")
def snooze(
    *, filters: FilterOptions,
    as_json: JsonFlag = False, as_csv: CsvFlag = False,
) -> None:
    """Per agent and reason: snooze periods and seconds snoozed within the period (open ones up to now);
    --hours counts only those hours of every day."""
    from ringtui.services import stats

    with operation() as op:
        rows = stats.snooze_figures(op, filters)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=SNOOZE_COLUMNS, title="Snooze")


# ---------------------------------------------------------------- S7 SMS, S8 Meet, S9 omnichannel

MESSAGE_BOARD_COLUMNS = {"sms": ["agent", "sent", "received", "fragments"],
                         "omnichannel": ["agent", "sent", "received"],
                         "meet": ["agent", "meetings", "duration_s"]}
MeetTool = Annotated[str | None, typer.Option("--tool", help="ringover, teams, zoom or google-meet.")]
MeetSort = Annotated[str, typer.Option(
    "--sort", help="Leaderboard by meetings (the default) or duration (total per agent).")]
Platform = Annotated[str | None, typer.Option(
    "--platform", help="whatsapp, messenger, instagram, google-reviews or outlook.")]


def _render_figures(figures: dict, kind: str, title: str, *, as_json: bool, as_csv: bool) -> None:
    """The figures as one object (--json), the leaderboard as CSV (--csv), or two tables."""
    if as_json:
        render_object(figures, as_json=True)
        return
    columns = MESSAGE_BOARD_COLUMNS[kind]
    if as_csv:
        render_rows(figures["leaderboard"], as_csv=True, columns=columns)
        return
    render_object({k: v for k, v in figures.items() if k != "leaderboard"}, title=title)
    render_rows(figures["leaderboard"], columns=columns, title="Leaderboard")


@app.command("sms")
@with_filters("period", "hours", "scope", "ivr", "group", "user", "country", "direction", "saved")
def sms(*, filters: FilterOptions, as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """SMS: totals (direct and campaigns), fragments, price, response time, unanswered; per agent."""
    from ringtui.services import stats_messages

    with operation() as op:
        figures = stats_messages.sms_stats(op, filters)
    _render_figures(figures, "sms", "SMS", as_json=as_json, as_csv=as_csv)


@app.command("meet")
@with_filters("period", "hours", "group", "user", "tag", "saved", tag=MeetingTagName)
def meet(
    tool: MeetTool = None, sort: MeetSort = "meetings",
    *, filters: FilterOptions, as_json: JsonFlag = False, as_csv: CsvFlag = False,
) -> None:
    """Meetings: count by tool, total and average duration, average participants; per agent."""
    from ringtui.services import stats_messages

    with operation() as op:
        figures = stats_messages.meet_stats(op, filters, tool, sort)
    _render_figures(figures, "meet", "Meet", as_json=as_json, as_csv=as_csv)


@app.command("omnichannel")
@with_filters("period", "hours", "group", "user", "direction", "saved")
def omnichannel(
    platform: Platform = None, *, filters: FilterOptions, as_json: JsonFlag = False, as_csv: CsvFlag = False,
) -> None:
    """Omnichannel messages (add-on): totals per platform, response time, unanswered; per agent."""
    from ringtui.services import stats_messages

    with operation() as op:
        figures = stats_messages.omni_stats(op, filters, platform)
    _render_figures(figures, "omnichannel", "Omnichannel", as_json=as_json, as_csv=as_csv)
