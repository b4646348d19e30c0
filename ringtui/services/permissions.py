"""The U4 permission catalogue: every permission with its type and default.

Users store only the values that differ from the default; `permission_value`
reads the effective value, `parse_permission` turns `NAME=VALUE` text into a
checked value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ringtui.errors import Invalid

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Permission:
    name: str
    category: str
    kind: str  # "bool", "int", "choice"
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = 0

    def describe_type(self) -> str:
        if self.kind == "bool":
            return "true|false"
        if self.kind == "choice":
            return "|".join(self.choices)
        return f"integer {self.minimum}..{self.maximum}"


def _b(name: str, category: str, default: bool, help: str) -> Permission:
    return Permission(name, category, "bool", default, help)


def _i(name: str, category: str, default: int, lo: int, hi: int, help: str) -> Permission:
    return Permission(name, category, "int", default, help, minimum=lo, maximum=hi)


def _c(name: str, category: str, default: str, choices: tuple[str, ...], help: str) -> Permission:
    return Permission(name, category, "choice", default, help, choices=choices)


SOFTWARE, CALLS, RECORDING = "software", "calls", "recording"

CATALOGUE: dict[str, Permission] = {p.name: p for p in (
    _c("call_logs", SOFTWARE, "all", ("all", "groups", "own", "none"), "which call logs the user may see"),
    _b("own_logs_only", SOFTWARE, False, "show only the user's own logs"),
    _c("recordings", SOFTWARE, "own", ("all", "groups", "own", "none"), "which recordings the user may hear"),
    _b("sip_account", SOFTWARE, True, "may use a SIP phone account"),
    _b("edit_own_settings", SOFTWARE, True, "may edit own settings"),
    _b("schedule_block", SOFTWARE, False, "time-availability schedule enforced and locked"),
    _b("snooze", SOFTWARE, True, "may snooze"),
    _b("edit_call_forwarding", SOFTWARE, True, "may edit call forwarding"),
    _b("join_open_groups", SOFTWARE, True, "may join open groups"),
    _b("chat_tab", SOFTWARE, True, "chat tab"),
    _b("video_tab", SOFTWARE, True, "video tab"),
    _b("statistics_tab", SOFTWARE, False, "statistics tab"),
    _b("power_dialer", SOFTWARE, False, "power dialer"),
    _b("contacts_tab", SOFTWARE, True, "contacts tab"),
    _b("sms_brand_notifications", SOFTWARE, False, "SMS notifications on behalf of the brand"),
    _b("see_waiting_list", CALLS, True, "see the waiting list"),
    _b("take_waiting_calls", CALLS, True, "take calls from the waiting list"),
    _b("transfer_calls", CALLS, True, "transfer a call in progress to another agent or a number"),
    _b("anonymise_inbound", CALLS, False, "anonymise all inbound numbers"),
    _b("tag_calls", CALLS, True, "tag calls"),
    _i("after_call_work_s", CALLS, 0, 0, 3600, "after-call work duration in seconds"),
    _b("mandatory_tags", CALLS, False, "a tag is required to close a call"),
    _b("mandatory_note", CALLS, False, "a note is required to close a call"),
    _b("off_plan_destinations", CALLS, False, "may call off-plan destinations"),
    _b("special_rate_numbers", CALLS, False, "may call special-rate national numbers"),
    _i("max_channels", CALLS, 2, 1, 10, "maximum simultaneous channels"),
    _b("change_outgoing_number", CALLS, True, "may change the outgoing number"),
    _b("local_presence", CALLS, False, "local presence dialling"),
    _b("voicemail_drop", CALLS, False, "voicemail drop"),
    _b("may_be_listened", RECORDING, True, "calls may be listened to (double listening)"),
    _b("recording_download", RECORDING, True, "download button on recordings"),
    _b("start_stop_recording", RECORDING, True, "may start and stop recording"),
    _b("record_conversations", RECORDING, True, "conversations are recorded"),
    _b("announce_recording", RECORDING, False, "announce recording; the caller may press * to refuse"),
    _i("recorded_percent", RECORDING, 100, 0, 100, "percentage of calls recorded"),
    _b("force_logout", RECORDING, False, "may force logout on every device"),
)}


def lookup(name: str) -> Permission:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise Invalid(
            f"unknown permission {name!r}; known permissions: {', '.join(sorted(CATALOGUE))}"
        ) from None


def parse_permission(name: str, text: str) -> Any:
    permission = lookup(name)
    value = text.strip().lower()
    if permission.kind == "bool":
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    elif permission.kind == "choice":
        if value in permission.choices:
            return value
    else:
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is not None and permission.minimum <= number <= permission.maximum:
            return number
    raise Invalid(f"{name}={text!r}: expected {permission.describe_type()}")


def permission_value(user: Any, name: str) -> Any:
    return (user.permissions or {}).get(name, CATALOGUE[name].default)


def effective_permissions(user: Any) -> dict[str, Any]:
    return {name: permission_value(user, name) for name in CATALOGUE}
