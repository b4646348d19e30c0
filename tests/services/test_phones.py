"""E.164 normalisation: national form resolved with the account's country."""

from __future__ import annotations

import pytest

from ringtui.errors import Invalid
from ringtui.services.phones import country_of, national_prefix_to_e164, to_e164


@pytest.mark.parametrize(("raw", "country", "e164"), [
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("+33 6 12 34 56 78", "ES", "+33612345678"),
    ("0033612345678", "GB", "+33612345678"),
    ("612 34 56 78", "ES", "+34612345678"),
    ("(202) 555-0143", "US", "+12025550143"),
])
def test_national_and_international_forms(raw, country, e164):
    assert to_e164(raw, country) == e164


@pytest.mark.parametrize(("raw", "country", "fragment"), [
    ("(202) 555-0143", "FR", "not a valid national number of FR"),  # a US number typed for a French account
    ("0612", "FR", "'0612'"),
    ("call me", "FR", "'call me'"),
    ("", "FR", "empty"),
    ("+99912345", "FR", "'+99912345'"),
    ("0612345678", "ZZ", "'ZZ'"),
])
def test_invalid_or_foreign_format_numbers_are_named(raw, country, fragment):
    with pytest.raises(Invalid, match=fragment.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        to_e164(raw, country)


def test_prefixes_and_countries():
    assert national_prefix_to_e164("01", "FR") == "+331"
    assert national_prefix_to_e164("+34 91", "FR") == "+3491"
    assert country_of("+442072599455") == "GB"
