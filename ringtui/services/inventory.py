"""The inventory of numbers an account can take (N1, N2), derived from `phonenumbers` metadata.

No number is hard-coded. A number's format comes from the number itself (`classify`), so what
`search` offers and what `numbers add` accepts follow one rule:
- mobile: phonenumbers says PhoneNumberType.MOBILE;
- national: the country's non-geographic range in NATIONAL_RANGES (France: 09 numbers), or
  by default any VOIP or UAN number;
- local: a geographic fixed line whose geocoder description names a place, not just the country.

Candidates are generated deterministically (a generator seeded by country and format) from the
geocoder's prefixes (local) or from the national number patterns (mobile, national), and kept
only when phonenumbers says they are valid numbers of that country and format.

This module is pure: it knows nothing of the database; services.numbers adds the account.
"""

from __future__ import annotations

import difflib
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberType, geocoder
from phonenumbers.geodata import GEOCODE_DATA, GEOCODE_LONGEST_PREFIX

from ringtui.errors import Invalid
from ringtui.services.phones import check_country
from ringtui.vocab import NumberFormat, NumberStatus

MAX_LIMIT = 100
_ATTEMPTS_PER_NUMBER = 200
_MIN_ATTEMPTS = 2_000


@dataclass(frozen=True)
class NationalRange:
    """The numbers a country's operators call "national": non-geographic, one price nationwide."""

    types: frozenset[int]
    leading_digits: str = ""
    name: str = "VOIP or UAN numbers"


_DEFAULT_NATIONAL = NationalRange(frozenset({PhoneNumberType.VOIP, PhoneNumberType.UAN}))

NATIONAL_RANGES: dict[str, NationalRange] = {
    "FR": NationalRange(frozenset({PhoneNumberType.VOIP}), "9", "09 numbers"),
    "GB": NationalRange(frozenset({PhoneNumberType.UAN}), "3", "03 numbers"),
    "BE": NationalRange(frozenset({PhoneNumberType.UAN}), "78", "078 numbers"),
    "ES": NationalRange(frozenset({PhoneNumberType.UAN}), "51", "51 corporate numbers"),
    "DE": NationalRange(frozenset({PhoneNumberType.FIXED_LINE}), "32", "032 numbers"),
}

_DESC_OF_TYPE = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.UAN: "uan",
}
_GEOGRAPHIC = (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


@dataclass(frozen=True)
class InventoryNumber:
    e164: str
    country: str
    format: NumberFormat
    region: str
    place_names: frozenset[str] = frozenset()  # folded names of the place in every language known

    def in_region(self, text: str) -> bool:
        return fold(text) in self.place_names or fold(text) == fold(self.region)

    def is_in(self, address: str) -> bool:
        """Whether an address names the number's place, as a whole word ("Ath" is not in "Bath").

        Each part of "Thurso/Tongue" counts, and the city of "Jersey City, NJ".
        """
        names = set(self.place_names) | {fold(self.region)}
        names |= {part.strip() for name in list(names) for part in name.split(",")[0].split("/")}
        folded = fold(address)
        return any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", folded) for name in names if name)

    def as_dict(self) -> dict[str, Any]:
        """The CLI.md fields of a number the account may take."""
        return {"number": self.e164, "country": self.country, "format": self.format,
                "region": self.region, "status": NumberStatus.AVAILABLE, "assigned_to": None,
                "label": None}


def fold(text: str) -> str:
    """Case- and accent-insensitive form, so that "cadiz" finds "Cádiz"."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def parse_format(raw: str) -> NumberFormat:
    try:
        return NumberFormat(raw.strip().lower())
    except ValueError:
        raise Invalid(f"unknown number format {raw!r}; formats: {', '.join(NumberFormat)}") from None


# ---------------------------------------------------------------- what a number is


@cache
def country_name(country: str) -> str:
    example = phonenumbers.example_number(country)
    return (geocoder.country_name_for_number(example, "en") if example else "") or country


def national_range(country: str) -> NationalRange:
    return NATIONAL_RANGES.get(country, _DEFAULT_NATIONAL)


def _place_entry(number: PhoneNumber) -> dict[str, str] | None:
    """The geocoder's names of the longest prefix of the number, by language."""
    digits = f"{number.country_code}{phonenumbers.national_significant_number(number)}"
    for end in range(min(len(digits), GEOCODE_LONGEST_PREFIX), 0, -1):
        entry = GEOCODE_DATA.get(digits[:end])
        if entry:
            return entry
    return None


def _names(entry: dict[str, str] | None) -> frozenset[str]:
    return frozenset(fold(name) for name in (entry or {}).values() if name)


def _english(entry: dict[str, str]) -> str:
    return entry.get("en") or next(iter(entry.values()), "")


def classify(number: PhoneNumber) -> InventoryNumber | None:
    """The inventory view of a valid number, or None when it is of no format ringtui offers."""
    country = phonenumbers.region_code_for_number(number)
    if country is None or not phonenumbers.is_valid_number(number):
        return None
    kind = phonenumbers.number_type(number)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    described = geocoder.description_for_number(number, "en") or country_name(country)
    rule = national_range(country)
    nsn = phonenumbers.national_significant_number(number)
    if kind in rule.types and nsn.startswith(rule.leading_digits):
        return InventoryNumber(e164, country, NumberFormat.NATIONAL, described)
    if kind == PhoneNumberType.MOBILE:
        return InventoryNumber(e164, country, NumberFormat.MOBILE, described)
    entry = _place_entry(number)
    if kind in _GEOGRAPHIC and entry and _english(entry) != country_name(country):
        return InventoryNumber(e164, country, NumberFormat.LOCAL, _english(entry), _names(entry))
    return None


def describe(e164: str, *, ported: bool = False) -> InventoryNumber:
    """What an E.164 number is, or Invalid saying which numbers ringtui offers.

    A number ported in is the customer's own: any valid number is accepted, a
    fixed line the geocoder places in no city counting as local to its country
    and any other non-mobile number as national.
    """
    number = phonenumbers.parse(e164, None)
    found = classify(number)
    if found is None and ported:
        country = phonenumbers.region_code_for_number(number)
        kind = phonenumbers.number_type(number)
        number_format = NumberFormat.LOCAL if kind in _GEOGRAPHIC else NumberFormat.NATIONAL
        return InventoryNumber(e164, country, number_format, country_name(country))
    if found is None:
        country = phonenumbers.region_code_for_number(number) or "?"
        kind = phonenumbers.number_type(number)
        what = ("a fixed line the geocoder places in no city" if kind in _GEOGRAPHIC
                else f"a {_type_name(kind)} number")
        raise Invalid(
            f"{e164} is {what}; the inventory holds mobile numbers, local numbers (fixed lines of a "
            f"city) and national numbers ({country}: {national_range(country).name})")
    return found


def _type_name(kind: int) -> str:
    for name, value in vars(PhoneNumberType).items():
        if value == kind and name.isupper():
            return name.lower().replace("_", "-")
    return "unknown"


# ---------------------------------------------------------------- generating candidates

Emit = Callable[[random.Random], str]


class _PatternGenerator:
    """Random strings matching a libphonenumber national-number pattern.

    The metadata patterns use a small regex subset: digits, \\d, [...] classes, (?:...) groups,
    alternation, ? and {n} / {n,m}; anything else is refused loudly.
    """

    def __init__(self, pattern: str) -> None:
        self.text, self.pos = pattern, 0

    def compile(self) -> Emit:
        emit = self._alternation()
        if self.pos != len(self.text):
            raise ValueError(f"unsupported pattern syntax at {self.pos} in {self.text!r}")
        return emit

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _alternation(self) -> Emit:
        branches = [self._sequence()]
        while self._peek() == "|":
            self.pos += 1
            branches.append(self._sequence())
        return branches[0] if len(branches) == 1 else (lambda rng: rng.choice(branches)(rng))

    def _sequence(self) -> Emit:
        parts: list[Emit] = []
        while self._peek() not in ("", "|", ")"):
            parts.append(self._quantified(self._atom()))
        return lambda rng: "".join(part(rng) for part in parts)

    def _atom(self) -> Emit:
        if self.text.startswith("(?:", self.pos) or self._peek() == "(":
            self.pos += 3 if self.text.startswith("(?:", self.pos) else 1
            inner = self._alternation()
            self._expect(")")
            return inner
        if self._peek() == "[":
            self.pos += 1
            chars = self._class()
            return lambda rng: rng.choice(chars)
        if self.text.startswith("\\d", self.pos):
            self.pos += 2
            return lambda rng: rng.choice("0123456789")
        if self._peek().isdigit():
            digit = self._peek()
            self.pos += 1
            return lambda rng: digit
        raise ValueError(f"unsupported pattern syntax at {self.pos} in {self.text!r}")

    def _class(self) -> str:
        chars = ""
        while self._peek() != "]":
            if self.text.startswith("\\d", self.pos):
                chars, self.pos = chars + "0123456789", self.pos + 2
            elif self.text[self.pos + 1:self.pos + 2] == "-":
                low, high = self.text[self.pos], self.text[self.pos + 2]
                chars += "".join(chr(c) for c in range(ord(low), ord(high) + 1))
                self.pos += 3
            else:
                chars, self.pos = chars + self.text[self.pos], self.pos + 1
        self.pos += 1
        return chars

    def _quantified(self, atom: Emit) -> Emit:
        if self._peek() == "?":
            self.pos += 1
            return self._repeat(atom, 0, 1)
        if self._peek() == "{":
            end = self.text.index("}", self.pos)
            low, _, high = self.text[self.pos + 1:end].partition(",")
            self.pos = end + 1
            return self._repeat(atom, int(low), int(high or low))
        return atom

    @staticmethod
    def _repeat(atom: Emit, low: int, high: int) -> Emit:
        return lambda rng: "".join(atom(rng) for _ in range(rng.randint(low, high)))

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise ValueError(f"expected {char!r} at {self.pos} in {self.text!r}")
        self.pos += 1


@cache
def _pattern_emitter(pattern: str) -> Emit:
    return _PatternGenerator(pattern).compile()


@dataclass(frozen=True)
class Place:
    national_prefix: str
    name: str
    names: frozenset[str]


@cache
def _places(country: str) -> tuple[Place, ...]:
    """Geocoder prefixes naming a place (not just the country) under the country's calling code."""
    code = str(phonenumbers.country_code_for_region(country))
    whole_country = country_name(country)
    places = [Place(key[len(code):], _english(entry), _names(entry))
              for key, entry in GEOCODE_DATA.items()
              if key.startswith(code) and len(key) > len(code) and _english(entry) != whole_country]
    return tuple(sorted(places, key=lambda place: place.national_prefix))


def _shares_calling_code(country: str) -> bool:
    code = phonenumbers.country_code_for_region(country)
    return len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())) > 1


@cache
def _belongs(country: str, national_prefix: str) -> bool:
    """Whether a prefix is the country's, when several countries share its calling code (+1, +44)."""
    if not _shares_calling_code(country):
        return True
    example = phonenumbers.example_number_for_type(country, PhoneNumberType.FIXED_LINE)
    tail = phonenumbers.national_significant_number(example) if example else ""
    digits = national_prefix + tail[len(national_prefix):]
    sample = _phone_number(phonenumbers.country_code_for_region(country), digits)
    return phonenumbers.region_code_for_number(sample) == country


def _phone_number(code: int, national_digits: str) -> PhoneNumber:
    zeros = len(national_digits) - len(national_digits.lstrip("0"))
    return PhoneNumber(country_code=code, national_number=int(national_digits),
                       italian_leading_zero=zeros > 0 or None, number_of_leading_zeros=zeros or None)


def _possible_lengths(country: str) -> tuple[int, ...]:
    metadata = PhoneMetadata.metadata_for_region(country)
    return tuple(metadata.fixed_line.possible_length or metadata.general_desc.possible_length)


def _local_emitter(country: str, places: tuple[Place, ...]) -> Emit:
    lengths = _possible_lengths(country)
    example = phonenumbers.example_number_for_type(country, PhoneNumberType.FIXED_LINE)
    usual = len(phonenumbers.national_significant_number(example)) if example else max(lengths)

    def emit(rng: random.Random) -> str:
        prefix = rng.choice(places).national_prefix
        # the length of the country's example fixed line, as operators hand out: not every
        # length the numbering plan allows (Germany allows 5 to 15 digits)
        size = usual if usual > len(prefix) else min([n for n in lengths if n > len(prefix)],
                                                      default=len(prefix) + 1)
        return prefix + "".join(rng.choice("0123456789") for _ in range(size - len(prefix)))

    return emit


def _pattern_emitters(country: str, number_format: NumberFormat) -> list[Emit]:
    metadata = PhoneMetadata.metadata_for_region(country)
    if number_format == NumberFormat.MOBILE:
        if metadata.same_mobile_and_fixed_line_pattern:
            return []  # phonenumbers cannot tell its mobiles from fixed lines (US, CA)
        types: frozenset[int] = frozenset({PhoneNumberType.MOBILE})
    else:
        types = national_range(country).types
    patterns = sorted(desc.national_number_pattern for desc in
                      (getattr(metadata, _DESC_OF_TYPE[kind]) for kind in types)
                      if desc is not None and desc.national_number_pattern)
    return [_pattern_emitter(pattern) for pattern in patterns]


def _emitters(country: str, number_format: NumberFormat) -> list[Emit]:
    if number_format == NumberFormat.LOCAL:
        places = _places(country)
        return [_local_emitter(country, places)] if places else []
    return _pattern_emitters(country, number_format)


def formats_offered(country: str) -> list[str]:
    return [f.value for f in NumberFormat if _emitters(country, f)]


def _none_offered(country: str, number_format: NumberFormat) -> Invalid:
    others = [f for f in formats_offered(country) if f != number_format]
    why = {
        NumberFormat.MOBILE: "phonenumbers gives it no mobile range of its own",
        NumberFormat.NATIONAL: f"it has no {national_range(country).name}",
        NumberFormat.LOCAL: "the geocoder names no city for its fixed lines",
    }[number_format]
    return Invalid(f"no {number_format} numbers for {country} ({why}); formats for {country}: "
                   f"{', '.join(others) or 'none'}")


def _some_regions(country: str, places: tuple[Place, ...], wanted: str) -> str:
    common = [name for name, _ in Counter(p.name for p in places).most_common()]
    owned = {p.name for p in places if p.name in common[:40] and _belongs(country, p.national_prefix)}
    examples = [name for name in common if name in owned][:8]
    similar = difflib.get_close_matches(wanted, sorted({p.name for p in places}), n=5, cutoff=0.7)
    close = [name for name in similar
             if any(p.name == name and _belongs(country, p.national_prefix) for p in places)][:3]
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return f"regions of {country} include {'; '.join(examples)}{hint}"


def _places_in(country: str, region: str) -> tuple[Place, ...]:
    wanted = fold(region)
    every = _places(country)
    places = tuple(p for p in every if wanted in p.names and _belongs(country, p.national_prefix))
    if not places:
        raise Invalid(f"unknown region {region!r} for {country}: {_some_regions(country, every, region)}")
    return places


def candidates(country: str, number_format: NumberFormat, region: str | None = None,
               attempts: int = _MIN_ATTEMPTS) -> Iterator[InventoryNumber]:
    """Valid numbers of the country and format, in a fixed order, possibly repeating."""
    emitters = _emitters(country, number_format)
    if not emitters:
        raise _none_offered(country, number_format)
    if number_format == NumberFormat.LOCAL and region is not None:
        emitters = [_local_emitter(country, _places_in(country, region))]
    rng = random.Random(f"{country}:{number_format.value}")
    code = phonenumbers.country_code_for_region(country)
    leading = national_range(country).leading_digits if number_format == NumberFormat.NATIONAL else ""
    for _ in range(attempts):
        digits = rng.choice(emitters)(rng)
        if not digits or not digits.startswith(leading):
            continue
        found = classify(_phone_number(code, digits))
        if found is not None and found.country == country and found.format == number_format:
            yield found


def search(country: str, number_format: str, *, region: str | None = None, limit: int = 10,
           exclude: frozenset[str] = frozenset()) -> list[InventoryNumber]:
    """Up to `limit` numbers to offer, always the same ones for the same request and exclusions."""
    code = check_country(country)
    chosen_format = parse_format(number_format)
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"--limit {limit}: give a number from 1 to {MAX_LIMIT}")
    found: dict[str, InventoryNumber] = {}
    seen_regions: Counter[str] = Counter()
    attempts = max(_MIN_ATTEMPTS, limit * _ATTEMPTS_PER_NUMBER)
    for number in candidates(code, chosen_format, region, attempts):
        seen_regions[number.region] += 1
        if number.e164 in exclude or number.e164 in found:
            continue
        if region is None or number.in_region(region):
            found[number.e164] = number
            if len(found) == limit:
                break
    if not found and region is not None and chosen_format != NumberFormat.LOCAL:
        names = "; ".join(name for name, _ in seen_regions.most_common(8))
        raise Invalid(f"unknown region {region!r} for {chosen_format} numbers of {code}: regions: {names}")
    if not found:
        where = f" in {region}" if region else ""
        raise Invalid(f"found no free {chosen_format} number of {code}{where} in phonenumbers' data; "
                      f"formats for {code}: {', '.join(formats_offered(code))}")
    return list(found.values())
