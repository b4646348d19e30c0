"""Session descriptions in a dialog: hold and resume answered as RFC 3264 says, and numbers read in
the account's country."""

from __future__ import annotations

from ringtui.engine.sip.calls import in_e164
from ringtui.engine.sip.sdp import answer_again, direction, next_version, with_direction

AGREED = ("v=0\r\no=phone 7 3 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
          "m=audio 4000 RTP/AVP 0\r\n")


def offer(attribute: str = "") -> str:
    return "v=0\r\no=caller 1 2 IN IP4 10.0.0.9\r\ns=-\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n" + attribute


def test_the_direction_is_the_streams_then_the_sessions_then_sendrecv() -> None:
    assert direction(AGREED) == "sendrecv"
    assert direction(offer("a=sendonly\r\n")) == "sendonly"
    assert direction("v=0\r\na=inactive\r\nm=audio 1 RTP/AVP 0\r\n") == "inactive"
    assert direction("v=0\r\na=inactive\r\nm=audio 1 RTP/AVP 0\r\na=recvonly\r\n") == "recvonly"


def test_a_hold_is_answered_recvonly_with_a_new_version_and_a_resume_goes_back() -> None:
    held = answer_again(AGREED, offer("a=sendonly\r\n"))
    assert held.splitlines() == ["v=0", "o=phone 7 4 IN IP4 10.0.0.2", "s=-", "c=IN IP4 10.0.0.2", "t=0 0",
                                 "m=audio 4000 RTP/AVP 0", "a=recvonly"]
    resumed = answer_again(held, offer())
    assert direction(resumed) == "sendrecv" and "o=phone 7 5 IN IP4 10.0.0.2" in resumed
    assert answer_again(resumed, offer("a=sendrecv\r\n")) == resumed  # nothing changes: same version
    assert direction(answer_again(AGREED, offer("a=inactive\r\n"))) == "inactive"


def test_an_offerless_reinvite_gets_the_agreed_session_unchanged() -> None:
    assert answer_again(AGREED, "") == AGREED
    assert answer_again("", offer("a=sendonly\r\n")) == ""  # no session (no SDP at all): none offered


def test_every_media_section_gets_the_direction_and_versions_count_up() -> None:
    two = AGREED + "m=video 4002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
    assert with_direction(two, "inactive").splitlines()[-5:] == [
        "m=audio 4000 RTP/AVP 0", "a=inactive", "m=video 4002 RTP/AVP 96", "a=rtpmap:96 VP8/90000",
        "a=inactive"]
    assert next_version("v=0\r\no=- 1 9 IN IP4 h\r\n").splitlines()[1] == "o=- 1 10 IN IP4 h"


def test_numbers_in_national_form_are_read_in_the_accounts_country() -> None:
    assert in_e164("0612345678", "FR") == "+33612345678"
    assert in_e164("0033612345678", "FR") == "+33612345678"
    assert in_e164("+34612345678", "FR") == "+34612345678"
    assert in_e164("612345678", "ES") == "+34612345678"
    for kept in ("anonymous", "sipp", "123", "0612345678x9", ""):  # not a number of the country
        assert in_e164(kept, "FR") == kept
    assert in_e164("0612345678", "") == "0612345678"  # no country known


def test_a_transferred_caller_is_offered_the_new_phones_streams_under_the_same_origin_one_version_on():
    from ringtui.engine.sip.sdp import new_session

    first = ("v=0\r\no=ana 7 3 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
             "m=audio 6000 RTP/AVP 0\r\n")
    bob = ("v=0\r\no=bob 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
           "m=audio 7000 RTP/AVP 8\r\n")
    assert new_session(first, bob).splitlines() == [
        "v=0", "o=ana 7 4 IN IP4 10.0.0.1", "s=-", "c=IN IP4 10.0.0.2", "t=0 0", "m=audio 7000 RTP/AVP 8"]
