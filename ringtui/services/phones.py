"""Phone numbers: parsing, E.164 normalisation and validation with `phonenumbers`."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from ringtui.errors import Invalid


def check_country(country: str) -> str:
    code = country.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise Invalid(f"unknown country {country!r}: give an ISO 3166 two-letter code such as FR, ES, US")
    return code


def parse(raw: str, country: str) -> phonenumbers.PhoneNumber:
    """Parse a number given in national form (for `country`) or international form."""
    text = raw.strip()
    if not text:
        raise Invalid("empty phone number: give it as +CC... or in the national form of the country")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, check_country(country))
    except NumberParseException as error:
        raise Invalid(f"{raw!r} is not a phone number ({error._msg})") from error
    if not phonenumbers.is_valid_number(number):
        if text.startswith("+"):
            hint = f"no valid number has this form under country code +{number.country_code}"
        else:
            hint = f"it is not a valid national number of {country.upper()}"
        raise Invalid(
            f"{raw!r} is not a valid phone number: {hint}; give it in international form (+CC...)")
    return number


def to_e164(raw: str, country: str) -> str:
    """The E.164 form of a number typed in national (for `country`) or international form."""
    return phonenumbers.format_number(parse(raw, country), PhoneNumberFormat.E164)


def country_of(e164: str) -> str | None:
    """ISO country of an E.164 number, or None when it cannot be placed."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except NumberParseException:
        return None


def area_of(e164: str) -> str | None:
    """The geographic area code of an E.164 number as "+CC AREA" ("+33 1", "+1 212"), or None for
    mobile and non-geographic numbers and where phonenumbers knows no area codes (S14)."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return None
    return area_of_number(number)


def area_of_number(number: phonenumbers.PhoneNumber) -> str | None:
    """`area_of` for a number already parsed (bulk paths parse each number once)."""
    length = phonenumbers.length_of_geographical_area_code(number)
    if not length:
        return None
    return f"+{number.country_code} {phonenumbers.national_significant_number(number)[:length]}"


def national_prefix_to_e164(prefix: str, country: str) -> str:
    """A typed number prefix ("+331", "0033 1", "01") as an E.164 prefix, for prefix searches."""
    digits = "".join(ch for ch in prefix if ch.isdigit() or ch == "+")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+"):
        return digits
    region = check_country(country)
    calling_code = phonenumbers.country_code_for_region(region)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    national_prefix = metadata.national_prefix if metadata else None
    if national_prefix and digits.startswith(national_prefix):
        digits = digits[len(national_prefix):]
    return f"+{calling_code}{digits}"
