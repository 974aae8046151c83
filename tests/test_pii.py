"""The PII detectors and the three modes, as pure functions: what is found, what is not."""

from __future__ import annotations

import itertools
import random
import re
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelwise.privacy import (
    KINDS,
    MODES,
    Detector,
    Scrubber,
    iban_valid,
    luhn_valid,
    project_key,
)
from labelwise.privacy.pii import IBAN_LENGTHS
from labelwise.spec._model import PiiKind, PiiMode

ALL = Detector(KINDS)


def found(text: str, detector: Detector = ALL) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in detector.find(text)]


def test_the_spec_offers_exactly_the_detectors_and_modes_there_are() -> None:
    assert get_args(PiiKind) == KINDS
    assert get_args(PiiMode) == MODES


# --- true positives -----------------------------------------------------------------------

FOUND = [
    ("Mail John.Doe+tickets@Example.co.uk.", "email", "John.Doe+tickets@Example.co.uk"),
    ("(me: a_b-c%d@sub.mail-host.org)", "email", "a_b-c%d@sub.mail-host.org"),
    ("call +49 30 1234567 now", "phone", "+49 30 1234567"),
    ("US office: +1 (555) 123-4567.", "phone", "+1 (555) 123-4567"),
    ("London +44 (0)20 7946 0958", "phone", "+44 (0)20 7946 0958"),
    ("ring (+44) 20 7946 0958 today", "phone", "(+44) 20 7946 0958"),
    ("Niue +683 4002", "phone", "+683 4002"),
    ("+1.555.123.4567", "phone", "+1.555.123.4567"),
    ("+44 20 7946 0958 2 times", "phone", "+44 20 7946 0958 2"),
    ("+44 20 7946 0958 1234 5678", "phone", "+44 20 7946 0958"),
    ("IBAN DE89 3704 0044 0532 0130 00 please", "iban", "DE89 3704 0044 0532 0130 00"),
    ("to GB29NWBK60161331926819.", "iban", "GB29NWBK60161331926819"),
    ("NL91 ABNA 0417 1643 00", "iban", "NL91 ABNA 0417 1643 00"),
    ("card 4111 1111 1111 1111, exp 12/29", "credit_card", "4111 1111 1111 1111"),
    ("mc 5555-5555-5555-4444", "credit_card", "5555-5555-5555-4444"),
    ("amex 3782 822463 10005", "credit_card", "3782 822463 10005"),
    ("ref 12 4111 1111 1111 1111 exp", "credit_card", "4111 1111 1111 1111"),
    ("4012888888881881", "credit_card", "4012888888881881"),
    ("from 192.168.1.254, again", "ip", "192.168.1.254"),
    ("host 0.0.0.0.", "ip", "0.0.0.0"),
    ("link-local fe80::1ff:fe23:4567:890a.", "ip", "fe80::1ff:fe23:4567:890a"),
    ("v6 2001:db8::1 and", "ip", "2001:db8::1"),
    ("mapped ::ffff:192.168.1.1 here", "ip", "::ffff:192.168.1.1"),
    (
        "full 2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "ip",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    ),
]


@pytest.mark.parametrize(("text", "kind", "value"), FOUND, ids=[t for t, _, _ in FOUND])
def test_each_detector_finds_its_values(text: str, kind: str, value: str) -> None:
    assert found(text) == [(kind, value)]
    assert found(text, Detector([kind])) == [(kind, value)]


def test_normal_forms_do_not_depend_on_how_a_value_is_written() -> None:
    def values(text: str) -> list[str]:
        return [f.value for f in ALL.find(text)]

    assert values("A.B@Example.ORG") == values("a.b@example.org") == ["a.b@example.org"]
    assert values("+49 30 1234567") == values("+49-30-1234567") == ["+49301234567"]
    assert values("DE89 3704 0044 0532 0130 00") == ["DE89370400440532013000"]
    assert values("4111-1111-1111-1111") == values("4111111111111111")
    assert values("2001:0db8:0:0:0:0:0:1") == values("2001:db8::1") == ["2001:db8::1"]


def test_several_values_in_one_text_in_order_without_overlaps() -> None:
    text = "ana.4111111111111111@mail.example.org, +44 20 7946 0958 or 10.0.0.1"
    assert found(text) == [
        ("email", "ana.4111111111111111@mail.example.org"),
        ("phone", "+44 20 7946 0958"),
        ("ip", "10.0.0.1"),
    ]


def test_only_the_chosen_kinds_are_looked_for() -> None:
    text = "ana@example.org, +44 20 7946 0958, 4111 1111 1111 1111, 10.0.0.1"
    assert found(text, Detector(["phone", "ip"])) == [
        ("phone", "+44 20 7946 0958"),
        ("ip", "10.0.0.1"),
    ]
    with pytest.raises(ValueError, match="unknown PII kinds: ssn"):
        Detector(["email", "ssn"])


# --- lookalikes -----------------------------------------------------------------------------

NOT_FOUND = [
    "order 123456 arrived after 14 days (ticket 99)",
    "price 4.99, 12.50 or 1,299.00; on 2024-12-05 at 10:30:00",
    # e-mail
    "a..b@example.org",
    "dot.@example.org",
    "x@y",
    "name@localhost",
    "@example.org",
    # phone: no '+', a country code 0, too few or too many digits
    "call 030 1234567",
    "(555) 123-4567",
    "+0 30 1234567",
    "+49 123",
    "+4912345678901234567",
    # card: Luhn fails, a network's digit is wrong, too short or long
    "4111 1111 1111 1112",
    "1111 1111 1111 1117",
    "4111 1111 1111",
    "41111111111111111111",
    # IBAN: check digits, length, country, glued to a word
    "DE88 3704 0044 0532 0130 00",
    "DE89370400440532013001",
    "DE8937040044053201300",
    "DE893704004405320130001",
    "XX89370400440532013000",
    "ZDE89370400440532013000",
    "DE89370400440532013000abc",
    # IP: octet over 255, leading zeros, five parts, times, code
    "256.1.1.1",
    "01.2.3.4",
    "5.1.2.3.4",
    "std::vector<int> and a::b::c",
    "at 10:30:00 or 12:00",
    "just :: here",
]


@pytest.mark.parametrize("text", NOT_FOUND)
def test_lookalikes_are_left_alone(text: str) -> None:
    assert found(text) == []


# --- checksums ------------------------------------------------------------------------------

REGISTRY_EXAMPLES = [
    "AT611904300234573201",
    "BE68539007547034",
    "BR1800360305000010009795493C1",
    "CH9300762011623852957",
    "DE89370400440532013000",
    "DK5000400440116243",
    "ES9121000418450200051332",
    "FI2112345600000785",
    "FR1420041010050500013M02606",
    "GB29NWBK60161331926819",
    "IE29AIBK93115212345678",
    "IT60X0542811101000000123456",
    "LC55HEMM000100010012001200023015",
    "MT84MALT011000012345MTLCAST001S",
    "NL91ABNA0417164300",
    "NO9386011117947",
    "PL61109010140000071219812874",
    "PT50000201231234567890154",
    "RU0304452522540817810538091310419",
    "SA0380000000608010167519",
    "SC18SSCB11010000000000001497USD",
    "SE4550000000058398257466",
]


@pytest.mark.parametrize("iban", REGISTRY_EXAMPLES)
def test_the_registry_examples_are_valid_ibans_and_found(iban: str) -> None:
    assert iban_valid(iban)
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    assert found(f"pay to {grouped}.") == [("iban", grouped)]


def _with_check_digits(country: str, bban: str) -> str:
    number = int((bban + country + "00").translate({ord(c): str(ord(c) - 55) for c in country}))
    return f"{country}{98 - number % 97:02d}{bban}"


@given(st.sampled_from(sorted(IBAN_LENGTHS)), st.integers(0, 2**64), st.data())
def test_any_iban_of_any_country_is_found_and_any_one_digit_change_is_refused(
    country: str, seed: int, data: st.DataObject
) -> None:
    rng = random.Random(seed)
    bban = "".join(rng.choice("0123456789") for _ in range(IBAN_LENGTHS[country] - 4))
    iban = _with_check_digits(country, bban)
    assert iban_valid(iban) and found(iban) == [("iban", iban)]
    position = data.draw(st.integers(2, len(iban) - 1))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != iban[position]]))
    assert not iban_valid(iban[:position] + other + iban[position + 1 :])


@given(st.text("0123456789", min_size=12, max_size=18), st.data())
def test_luhn_accepts_its_check_digit_and_refuses_any_one_digit_change(
    body: str, data: st.DataObject
) -> None:
    check = next(d for d in "0123456789" if luhn_valid(body + d))
    number = body + check
    assert [luhn_valid(body + d) for d in "0123456789"].count(True) == 1
    position = data.draw(st.integers(0, len(number) - 1))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    assert not luhn_valid(number[:position] + other + number[position + 1 :])
    if number[0] in "23456":
        assert found(f"card {number} now") == [("credit_card", number)]


# --- the modes ------------------------------------------------------------------------------

TICKET = "Refund ana@example.org, card 4111 1111 1111 1111; or ANA@example.org"
KEY = project_key(b"k" * 32, 1)


def test_mask_writes_each_value_as_its_kind_and_counts_it() -> None:
    scrubber = Scrubber(["text"], KINDS, "mask")
    stored, findings = scrubber.scrub({"text": TICKET, "channel": "email"})
    assert stored == {
        "text": "Refund [EMAIL], card [CREDIT_CARD]; or [EMAIL]",
        "channel": "email",
    }
    assert findings == {"text": {"email": 2, "credit_card": 1}}


def tokens(text: str) -> list[str]:
    return re.findall(r"<[A-Z_]+_[0-9a-f]{16}>", text)


def test_pseudonymise_gives_one_token_per_value_and_project() -> None:
    scrubber = Scrubber(["text"], KINDS, "pseudonymise", KEY)
    stored, findings = scrubber.scrub({"text": TICKET})
    text = stored["text"]
    assert findings == {"text": {"email": 2, "credit_card": 1}}
    email, card, again = tokens(text)
    assert text == f"Refund {email}, card {card}; or {again}"
    assert email.startswith("<EMAIL_") and card.startswith("<CREDIT_CARD_")
    assert again == email  # the same address, written in capitals
    same, _ = Scrubber(["text"], KINDS, "pseudonymise", KEY).scrub({"text": TICKET})
    assert same == stored
    elsewhere = Scrubber(["text"], KINDS, "pseudonymise", project_key(b"k" * 32, 2))
    other = tokens(elsewhere.scrub({"text": TICKET})[0]["text"])
    assert other[0] == other[2] and set(other).isdisjoint({email, card})


def test_flag_keeps_the_text_and_reports_what_it_found() -> None:
    data = {"text": TICKET}
    stored, findings = Scrubber(["text"], KINDS, "flag").scrub(data)
    assert stored is data and stored["text"] == TICKET
    assert findings == {"text": {"email": 2, "credit_card": 1}}


def test_every_string_of_chat_and_pair_fields_is_looked_through() -> None:
    data = {
        "chat": [
            {"role": "user", "content": "I am ana@example.org"},
            {"role": "bot", "content": "ok"},
        ],
        "pair": {"a": "call +44 20 7946 0958", "b": "no"},
        "source": 42,
    }
    stored, findings = Scrubber(["chat", "pair", "source"], KINDS, "mask").scrub(data)
    assert stored["chat"][0] == {"role": "user", "content": "I am [EMAIL]"}
    assert stored["pair"] == {"a": "call [PHONE]", "b": "no"}
    assert stored["source"] == 42
    assert findings == {"chat": {"email": 1}, "pair": {"phone": 1}}


def test_nothing_found_changes_nothing() -> None:
    data = {"text": "order 123456 is late"}
    assert Scrubber(["text"], KINDS, "mask").scrub(data) == (data, None)


def test_a_mode_that_needs_a_key_refuses_to_run_without_one() -> None:
    with pytest.raises(ValueError, match="needs the project's key"):
        Scrubber(["text"], KINDS, "pseudonymise")
    with pytest.raises(ValueError, match="unknown PII mode"):
        Scrubber(["text"], KINDS, "hide")


# --- any text -------------------------------------------------------------------------------

VALUES = ["ana@example.org", "+44 20 7946 0958", "DE89 3704 0044 0532 0130 00", "10.0.0.1"]
PIECES = st.sampled_from(
    [*VALUES, "4111 1111 1111 1111", "fe80::1", " ", ".", "@", ":", "+", "(", ")", "-", "0", "12"]
)


@given(st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=30).map("".join))
def test_any_text_gives_ordered_disjoint_values_and_masking_keeps_the_rest(text: str) -> None:
    values = ALL.find(text)
    assert all(0 <= a.start < a.end <= len(text) for a in values)
    assert all(a.end <= b.start for a, b in itertools.pairwise(values))
    masked, findings = Scrubber(["text"], KINDS, "mask").scrub({"text": text})
    assert (findings is None) == (not values)
    expected, last = "", 0
    for value in values:
        expected += text[last : value.start] + f"[{value.kind.upper()}]"
        last = value.end
    assert masked["text"] == expected + text[last:]
