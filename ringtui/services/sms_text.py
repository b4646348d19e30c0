"""How an SMS text travels (S7, K): GSM-7 or UCS-2, and how many fragments it costs.

The one definition that SMS logs, statistics and campaigns share. GSM-7 is the
3GPP TS 23.038 default alphabet; its extension table characters (^ { } \\ [ ~ ] | €
and form feed) take two septets, an escape and the character. A text with any
character outside both tables is sent in UCS-2, counted in UTF-16 code units (an
emoji outside the Basic Multilingual Plane takes two). A single message holds
160 septets or 70 units; a concatenated one loses room to its header, 153 septets
or 67 units per fragment, and a two-unit character is never split across two
fragments (the escape stays with its character, the surrogate pair together).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

Encoding = Literal["gsm7", "ucs2"]
SINGLE = {"gsm7": 160, "ucs2": 70}
CONCATENATED = {"gsm7": 153, "ucs2": 67}


@dataclass(frozen=True)
class SmsText:
    """What a text costs: its encoding, length in septets (GSM-7) or UTF-16 units, fragments."""

    encoding: Encoding
    units: int
    fragments: int

    @property
    def unicode(self) -> bool:
        return self.encoding == "ucs2"


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    if encoding == "gsm7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _fragments(costs: list[int], per_fragment: int) -> int:
    """Greedy packing that never splits a two-unit character."""
    count, used = 1, 0
    for cost in costs:
        if used + cost > per_fragment:
            count, used = count + 1, 0
        used += cost
    return count


def analyse(text: str) -> SmsText:
    """The encoding, length and fragment count of `text` (an empty text is one empty fragment)."""
    encoding: Encoding = "gsm7" if is_gsm7(text) else "ucs2"
    costs = _unit_costs(text, encoding)
    units = sum(costs)
    if units <= SINGLE[encoding]:
        return SmsText(encoding, units, 1)
    return SmsText(encoding, units, _fragments(costs, CONCATENATED[encoding]))


def fragments(text: str) -> int:
    return analyse(text).fragments


def encoding_of(text: str) -> Encoding:
    return analyse(text).encoding
