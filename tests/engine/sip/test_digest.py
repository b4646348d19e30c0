"""Digest authentication: the RFC vectors for MD5 and SHA-256, header parsing, and the nonce store
(stateless check, expiry as stale, forged nonces, nonce-count replay)."""

from __future__ import annotations

import pytest

from ringtui.engine.sip.digest import (
    Malformed,
    NonceCheck,
    NonceStore,
    challenges,
    digest_response,
    parse_authorization,
    response_matches,
)

RFC7616 = {"username": "Mufasa", "realm": "http-auth@example.org", "password": "Circle of Life",
           "method": "GET", "uri": "/dir/index.html", "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
           "qop": "auth", "nc": "00000001", "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"}


def test_rfc2617_md5_vector() -> None:
    assert digest_response(algorithm="MD5", username="Mufasa", realm="testrealm@host.com",
                           password="Circle Of Life", method="GET", uri="/dir/index.html",
                           nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth", nc="00000001",
                           cnonce="0a4f113b") == "6629fae49393a05397450978507c4ef1"


@pytest.mark.parametrize(("algorithm", "expected"), [
    ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
])
def test_rfc7616_vectors_used_by_rfc8760(algorithm: str, expected: str) -> None:
    assert digest_response(algorithm=algorithm, **RFC7616) == expected


def test_without_qop_the_rfc2069_form() -> None:
    # the RFC 2069 example (no qop), as the RFC 2617 errata and Wikipedia compute it
    assert digest_response(algorithm="MD5", username="Mufasa", realm="testrealm@host.com",
                           password="Circle Of Life", method="GET", uri="/dir/index.html",
                           nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093") == "670fd8c2df070c60b045671b8b24ff02"


def test_parse_authorization_and_verify() -> None:
    header = ('Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", '
              'algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, '
              'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, '
              'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", '
              'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')
    credentials = parse_authorization(header)
    assert (credentials.username, credentials.algorithm, credentials.count) == ("Mufasa", "SHA-256", 1)
    assert response_matches(credentials, "Circle of Life", "GET")
    assert not response_matches(credentials, "circle of life", "GET")
    assert not response_matches(credentials, "Circle of Life", "REGISTER")


@pytest.mark.parametrize(("header", "fragment"), [
    ('Basic dXNlcjpwYXNz', "Basic"),
    ('Digest username="a", realm="r", nonce="n", uri="sip:x"', "response"),
    ('Digest username="a", realm="r", nonce="n", uri="sip:x", response="0", algorithm=SHA-512', "SHA-512"),
    ('Digest username="a", realm="r", nonce="n", uri="sip:x", response="0", qop=auth-int', "auth-int"),
    ('Digest username="a", realm="r", nonce="n", uri="sip:x", response="0", qop=auth', "nc"),
    ('Digest username="a" realm', "unreadable"),
])
def test_malformed_authorization(header: str, fragment: str) -> None:
    with pytest.raises(Malformed, match=fragment):
        parse_authorization(header)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_nonce_fresh_then_replayed_then_next_count() -> None:
    store = NonceStore(ttl_s=30, clock=FakeTime())
    nonce = store.issue()
    assert store.check(nonce, 1) is NonceCheck.FRESH
    assert store.check(nonce, 1) is NonceCheck.REPLAYED
    assert store.check(nonce, 2) is NonceCheck.FRESH
    assert store.check(nonce, 1) is NonceCheck.REPLAYED


def test_nonce_expires_as_stale_and_is_forgotten() -> None:
    clock = FakeTime()
    store = NonceStore(ttl_s=30, clock=clock)
    nonce = store.issue()
    assert store.check(nonce, 1) is NonceCheck.FRESH
    clock.now += 31
    assert store.check(nonce, 2) is NonceCheck.STALE
    assert len(store) == 0
    assert store.check(store.issue(), 1) is NonceCheck.FRESH


def test_nonce_checked_statelessly_by_another_store_with_the_secret() -> None:
    clock = FakeTime()
    issued = NonceStore(secret=b"k" * 32, clock=clock).issue()
    assert NonceStore(secret=b"k" * 32, clock=clock).check(issued, 1) is NonceCheck.FRESH
    assert NonceStore(secret=b"x" * 32, clock=clock).check(issued, 1) is NonceCheck.FOREIGN


@pytest.mark.parametrize("tamper", [
    lambda n: "0" + n,
    lambda n: n[:-1] + ("0" if n[-1] != "0" else "1"),
    lambda n: "garbage",
    lambda n: "",
    lambda n: "zz.yy." + n.rpartition(".")[2],
])
def test_forged_nonces_are_foreign(tamper) -> None:
    store = NonceStore(clock=FakeTime())
    assert store.check(tamper(store.issue()), 1) is NonceCheck.FOREIGN


def test_challenges_offer_both_algorithms_md5_first_unless_asked() -> None:
    offered = challenges("ringtui.local", "abc", stale=True)
    assert [c.split("algorithm=")[1].split(",")[0] for c in offered] == ["MD5", "SHA-256"]
    preferred = challenges("r", "n", algorithms=("SHA-256", "MD5"))
    assert [c.split("algorithm=")[1].split(",")[0] for c in preferred] == ["SHA-256", "MD5"]
    assert all('realm="ringtui.local"' in c and 'qop="auth"' in c and "stale=true" in c for c in offered)
    assert all("stale" not in c for c in challenges("r", "n"))
