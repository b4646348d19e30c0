"""The client side of digest authentication (answering a trunk's 401/407), checked by the server side."""

from __future__ import annotations

import pytest

from ringtui.engine.sip.digest import (
    Malformed,
    authorization,
    challenges,
    parse_authorization,
    parse_challenge,
    response_matches,
)

URI = "sip:+33612345678@trunk.example:5060"


@pytest.mark.parametrize("offer", [
    *challenges("carrier.test", "n0nce", algorithms=("MD5", "SHA-256")),  # qop="auth"
    'Digest realm="carrier.test", nonce="n0nce"',  # RFC 2069: no qop, MD5 by default
    'Digest realm="carrier.test", nonce="n0nce", qop="auth,auth-int", opaque="x\\"y", algorithm=sha-256',
])
def test_an_answer_to_a_challenge_is_accepted_with_the_right_password_only(offer):
    challenge = parse_challenge(offer)
    answer = parse_authorization(authorization(challenge, username="trunkuser", password="s3cret",
                                               method="INVITE", uri=URI))
    assert (answer.username, answer.realm, answer.nonce) == ("trunkuser", "carrier.test", "n0nce")
    assert answer.uri == URI
    assert answer.algorithm == challenge.algorithm and answer.qop == ("auth" if challenge.qop else None)
    assert response_matches(answer, "s3cret", "INVITE")
    assert not response_matches(answer, "wrong", "INVITE")
    if challenge.opaque is not None:
        assert 'opaque="x\\"y"' in authorization(challenge, username="u", password="p", method="INVITE",
                                                  uri=URI)


@pytest.mark.parametrize(("offer", "why"), [
    ('Basic realm="carrier.test"', "only Digest"),
    ('Digest realm="carrier.test"', "realm and nonce"),
    ('Digest realm="carrier.test", nonce="n", algorithm=AKAv1-MD5', "(?i)AKAv1-MD5"),
])
def test_a_challenge_we_cannot_answer_is_malformed_naming_why(offer, why):
    with pytest.raises(Malformed, match=why):
        parse_challenge(offer)


def test_a_challenge_offering_only_auth_int_is_not_answered():
    with pytest.raises(Malformed, match="auth-int"):
        authorization(parse_challenge('Digest realm="r", nonce="n", qop="auth-int"'), username="u",
                      password="p", method="INVITE", uri=URI)
