"""The number inventory: real, valid numbers from phonenumbers' metadata, deterministic and fast."""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest
from phonenumbers import PhoneMetadata, PhoneNumberType, geocoder

from ringtui.errors import Invalid
from ringtui.services import inventory

FORMATS = ("national", "mobile", "local")
OFFERED = [(country, fmt) for country in ("FR", "ES", "GB", "DE", "BE") for fmt in FORMATS]
OFFERED.append(("US", "local"))

TYPES = {
    "mobile": {PhoneNumberType.MOBILE},
    "national": {PhoneNumberType.VOIP, PhoneNumberType.UAN, PhoneNumberType.FIXED_LINE},
    "local": {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
}


@pytest.mark.parametrize(("country", "fmt"), OFFERED)
def test_twenty_real_valid_numbers_of_the_country_and_format(country, fmt):
    inventory._places.cache_clear()
    found = inventory.search(country, fmt, limit=20)
    assert len(found) == 20 and len({n.e164 for n in found}) == 20
    for number in found:
        parsed = phonenumbers.parse(number.e164, None)
        assert phonenumbers.is_valid_number(parsed), number
        assert phonenumbers.region_code_for_number(parsed) == country
        assert phonenumbers.number_type(parsed) in TYPES[fmt], number
        assert (number.country, number.format) == (country, fmt)
        assert number.as_dict()["status"] == "available" and number.as_dict()["assigned_to"] is None


@pytest.mark.parametrize("country", ["FR", "ES", "GB", "US", "DE", "BE"])
def test_local_numbers_carry_the_geocoders_city(country):
    for number in inventory.search(country, "local", limit=20):
        parsed = phonenumbers.parse(number.e164, None)
        assert number.region == geocoder.description_for_number(parsed, "en")
        assert number.region != inventory.country_name(country)


@pytest.mark.parametrize(("country", "prefix"), [
    ("FR", "+339"), ("GB", "+443"), ("BE", "+3278"), ("ES", "+3451"), ("DE", "+4932")])
def test_national_numbers_are_the_range_operators_call_national(country, prefix):
    assert all(n.e164.startswith(prefix) for n in inventory.search(country, "national", limit=20))


def test_the_same_request_gives_the_same_numbers_and_exclusions_shift_the_list():
    first = inventory.search("FR", "local", limit=6)
    assert inventory.search("FR", "local", limit=6) == first
    after = inventory.search("FR", "local", limit=5, exclude=frozenset({first[0].e164}))
    assert after == first[1:]


def test_formats_a_country_has_not_are_refused_clearly():
    with pytest.raises(Invalid, match=r"no mobile numbers for US.*formats for US: local"):
        inventory.search("US", "mobile")
    with pytest.raises(Invalid, match=r"no national numbers for US"):
        inventory.search("US", "national")


@pytest.mark.parametrize(("args", "fragment"), [
    (("FR", "premium"), "'premium'"),
    (("XX", "mobile"), "'XX'"),
])
def test_unknown_format_or_country_is_refused(args, fragment):
    with pytest.raises(Invalid, match=re.escape(fragment)):
        inventory.search(*args)


@pytest.mark.parametrize("limit", [0, inventory.MAX_LIMIT + 1])
def test_limit_out_of_range_is_refused(limit):
    with pytest.raises(Invalid, match=f"--limit {limit}"):
        inventory.search("FR", "mobile", limit=limit)


@pytest.mark.parametrize(("country", "typed", "region"), [
    ("FR", "lyon", "Lyon"), ("ES", "CADIZ", "Cádiz"), ("BE", "Bruxelles", "Brussels"),
    ("DE", "München", "Munich"), ("US", "jersey city, nj", "Jersey City, NJ")])
def test_region_filter_is_case_accent_and_language_insensitive(country, typed, region):
    found = inventory.search(country, "local", region=typed, limit=10)
    assert len(found) == 10 and {n.region for n in found} == {region}


def test_unknown_region_is_named_with_regions_that_exist():
    with pytest.raises(Invalid, match=r"unknown region 'Lyn' for FR.*Paris.*did you mean Lyon"):
        inventory.search("FR", "local", region="Lyn")
    with pytest.raises(Invalid, match=r"unknown region 'Bretagne' for mobile numbers of FR.*France"):
        inventory.search("FR", "mobile", region="Bretagne")


def test_a_region_of_a_neighbour_sharing_the_calling_code_is_not_offered():
    with pytest.raises(Invalid, match="unknown region 'Manitoba' for US"):
        inventory.search("US", "local", region="Manitoba")


@pytest.mark.parametrize(("e164", "fmt", "region"), [
    ("+33612345678", "mobile", "France"),
    ("+33142685300", "local", "Paris"),
    ("+33912345678", "national", "France"),
    ("+4932123456789", "national", "Germany"),
])
def test_describe_derives_format_and_region_from_the_number(e164, fmt, region):
    described = inventory.describe(e164)
    assert (described.format, described.region) == (fmt, region)


def test_describe_refuses_numbers_of_no_offered_format():
    with pytest.raises(Invalid, match=r"\+33800123456 is a toll-free number"):
        inventory.describe("+33800123456")
    with pytest.raises(Invalid, match=r"national numbers \(FR: 09 numbers"):
        inventory.describe("+33806123456")  # a UAN, but not the French national range


def test_address_must_name_the_place_as_a_whole_word():
    ath = inventory.InventoryNumber("+3268000000", "BE", "local", "Ath", frozenset({"ath"}))
    assert ath.is_in("Rue de Pintamont 5, 7800 Ath")
    assert not ath.is_in("12 Bath Road, London")
    jersey = inventory.InventoryNumber("+12012000000", "US", "local", "Jersey City, NJ",
                                       frozenset({"jersey city, nj"}))
    assert jersey.is_in("30 Montgomery St, Jersey City 07302")


def _all_patterns() -> list[str]:
    kinds = ("fixed_line", "mobile", "voip", "uan", "toll_free", "premium_rate", "shared_cost",
             "personal_number", "pager", "general_desc")
    patterns = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        metadata = PhoneMetadata.metadata_for_region(region)
        for kind in kinds:
            desc = getattr(metadata, kind)
            if desc is not None and desc.national_number_pattern:
                patterns.add(desc.national_number_pattern)
    return sorted(patterns)


def test_the_pattern_generator_only_writes_strings_the_metadata_pattern_matches():
    rng = random.Random("patterns")
    for pattern in _all_patterns():
        emit = inventory._pattern_emitter(pattern)
        for _ in range(5):
            text = emit(rng)
            assert re.fullmatch(pattern, text), (pattern, text)


def test_the_pattern_generator_refuses_syntax_it_does_not_know():
    with pytest.raises(ValueError, match="unsupported"):
        inventory._PatternGenerator("[0-9]+").compile()
