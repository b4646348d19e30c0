"""GSM-7 / UCS-2 detection and fragments per message (S7, K): the rules of 3GPP TS 23.038."""

from __future__ import annotations

import pytest

from ringtui.services.sms_text import analyse, encoding_of, fragments


@pytest.mark.parametrize(("text", "encoding"), [
    ("Bonjour, votre commande est prête", "ucs2"),      # ê is not GSM-7: all goes UCS-2
    ("Réunion à 10h, café offert", "gsm7"),               # é, à are
    ("¿Dónde está?", "ucs2"),                             # ó and á are not
    ("Straße Ærø ñ Ü §", "gsm7"),
    ("Prix: 10€ {promo} [x] ~ | \\ ^", "gsm7"),          # extension table
    ("Merci 😀", "ucs2"),
    ("ΔΦΓΛΩΠΨΣΘΞ", "gsm7"),                               # the Greek capitals of the table
    ("αβγ", "ucs2"),
    ("`backtick`", "ucs2"),
    ("", "gsm7"),
])
def test_encoding(text, encoding):
    assert encoding_of(text) == encoding


def test_e_acute_is_gsm7_a_acute_is_not():
    assert (analyse("é" * 160).encoding, analyse("é" * 160).fragments) == ("gsm7", 1)
    assert (analyse("á" * 160).encoding, analyse("á" * 160).fragments) == ("ucs2", 3)  # 67+67+26


@pytest.mark.parametrize(("length", "expected"), [
    (0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)])
def test_gsm7_single_160_then_153_per_fragment(length, expected):
    result = analyse("a" * length)
    assert (result.encoding, result.units, result.fragments) == ("gsm7", length, expected)


@pytest.mark.parametrize(("length", "expected"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_single_70_then_67_per_fragment(length, expected):
    result = analyse("á" * length)
    assert (result.encoding, result.units, result.fragments, result.unicode) == (
        "ucs2", length, expected, True)


def test_extension_characters_count_double():
    assert analyse("€").units == 2
    assert analyse("a" * 158 + "€").fragments == 1        # exactly 160 septets
    assert analyse("a" * 159 + "€").fragments == 2        # 161 septets
    assert analyse("€" * 80).fragments == 1
    assert analyse("€" * 81).fragments == 2
    assert analyse("{}[]~|\\^").units == 16


def test_an_escape_is_not_split_across_fragments():
    # 152 septets then a two-septet character: it starts the second fragment
    assert analyse("a" * 152 + "€" + "a" * 151).units == 305
    assert analyse("a" * 152 + "€" + "a" * 151).fragments == 2   # 152 | 2+151
    assert analyse("a" * 152 + "€" + "a" * 152).fragments == 3   # 152 | 153 | 1, not ceil(306/153)=2
    assert analyse("a" * 151 + "€" + "a" * 153).fragments == 2   # 153 | 153


def test_emoji_count_two_utf16_units():
    assert (analyse("😀").encoding, analyse("😀").units) == ("ucs2", 2)
    assert analyse("Merci 😀").units == 8
    assert analyse("😀" * 35).fragments == 1                  # 70 units
    assert analyse("😀" * 36).fragments == 2                  # 72 units: 33 emoji a fragment
    # a surrogate pair is never split: 66 units then an emoji opens the next fragment
    assert analyse("á" * 66 + "😀" + "á" * 65).fragments == 2
    assert analyse("á" * 66 + "😀" + "á" * 66).fragments == 3


def test_one_accent_outside_gsm7_turns_the_whole_text_ucs2():
    text = "a" * 100 + "ç"  # lower-case c cedilla is not in the default alphabet
    assert (analyse(text).encoding, analyse(text).fragments) == ("ucs2", 2)
    assert fragments("a" * 100) == 1
