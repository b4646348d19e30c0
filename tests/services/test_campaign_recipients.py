"""The list normaliser gives exactly what `phones.to_e164` gives (same E.164, same error), only faster;
prices follow the calling code; column labels parse as documented."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ringtui.config import SmsSettings
from ringtui.errors import Invalid
from ringtui.services.campaigns.recipients import _Normaliser, parse_column_labels
from ringtui.services.campaigns.sms import check_sender, estimate_cost, price_country
from ringtui.services.phones import to_e164

TYPED = [
    "06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "0033612345678", "+33 (0)6 12 34 56 78",
    "06.12.34.56.78", "06-12-34-56-78", "612345678", "01 40 50 60 70", "0800 123 456", "+34 612 345 678",
    "+39 06 1234 5678", "+39 312 345 6789", "+44 7400 123456", "+44 7911 123456", "+1 415 555 2671",
    "+1 (800) 555-0100", "+49 30 123456", "+352 621 123 456", "+7 912 345 67 89", "+81 90 1234 5678",
    "12", "", "abc", "+99 123", "0612", "+33 6 12 34 56 78 90", "06 12 34 56 78 ext. 12", "+", "00",
    "+33612345678x", "tel:+33612345678", "0 612345678", "0000000000", "+3306 12 34 56 78",
]


@pytest.mark.parametrize("country", ["FR", "ES", "GB", "US", "IT", "BE", "DE"])
def test_fast_normaliser_equals_to_e164(country):
    normalise = _Normaliser(country)
    for raw in TYPED:
        try:
            expected: str | None = to_e164(raw, country)
            error = None
        except Invalid as exc:
            expected, error = None, str(exc)
        try:
            got: str | None = normalise(raw)
            got_error = None
        except Invalid as exc:
            got, got_error = None, str(exc)
        assert (got, got_error) == (expected, error), f"{raw!r} in {country}"


def test_price_country_is_the_calling_codes_main_country():
    assert [price_country(n) for n in ("+33612345678", "+447911123456", "+14155552671", "+352621123456")] == [
        "FR", "GB", "US", "LU"]


def test_estimated_cost_sums_per_country_prices_times_fragments():
    prices = {"FR": Decimal("0.05"), "GB": Decimal("0.04")}
    settings = SmsSettings(prices=prices, price_default=Decimal("0.1"))
    numbers = ["+33612345678", "+33698765432", "+447400123456", "+14155552671"]
    assert estimate_cost(settings, numbers, 3) == Decimal("0.72")  # (0.05 * 2 + 0.04 + 0.1) * 3


def test_column_labels():
    assert parse_column_labels(["Nom=name", "Firm = company", "Addr=ADDRESS", "Plan=custom:Tier"]) == {
        "Nom": "name", "Firm": "company", "Addr": "address", "Plan": "Tier"}
    for bad, fragment in (("Nom", "expected COL="), ("=name", "expected COL="), ("A=phone", "unknown kind"),
                          ("A=custom: ", "needs a label")):
        with pytest.raises(Invalid, match=fragment):
            parse_column_labels([bad])
    with pytest.raises(Invalid, match="named twice"):
        parse_column_labels(["A=name", "a=company"])


@pytest.mark.parametrize(("raw", "stored"), [("Acme", "Acme"), ("ACME Shop", "ACME Shop"),
                                             ("+33 1 40 50 60 70", "+33140506070")])
def test_senders(raw, stored):
    assert check_sender(raw, "FR") == stored


@pytest.mark.parametrize("raw", ["", "Twelve chars", "Acme!", "123"])
def test_bad_senders(raw):
    with pytest.raises(Invalid, match="sender"):
        check_sender(raw, "FR")
