"""Deterministic PII detectors: e-mail addresses, international phone numbers, IBANs, payment
card numbers and IP addresses, each validated (checksums where the format has one).

Import runs this on every configured field of every row, so the common case, a text with no
PII, must cost about a microsecond. One `bytes.translate` maps the text to a few character
classes (digit, separator, '+', '@', ':', hex letter, other) and one search of a literal-led
pattern over that map says whether anything PII-shaped can be there at all: a run of seven
digits, digit groups, a dotted quad, '+' and a digit, '@', two colons close together. Only
texts that pass (the ones with PII, and some with prices or dates) get the full scan: one
regex for everything made of digits (IBAN, IPv4, digit runs classified by digit count and
checksum afterwards), an anchored e-mail parse around each '@', and an IPv6 candidate scan.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from string import ascii_uppercase

EMAIL, PHONE, IBAN, CREDIT_CARD, IP = "email", "phone", "iban", "credit_card", "ip"
KINDS = (EMAIL, PHONE, IBAN, CREDIT_CARD, IP)

# ISO 13616 (SWIFT IBAN registry, release 101): each country's IBAN length.
IBAN_LENGTHS = {
    **dict.fromkeys(["NO"], 15),
    **dict.fromkeys(["BE"], 16),
    **dict.fromkeys(["DK", "FI", "FK", "FO", "GL", "NL", "SD"], 18),
    **dict.fromkeys(["MK", "SI"], 19),
    **dict.fromkeys(["AT", "BA", "EE", "KZ", "LT", "LU", "MN", "XK"], 20),
    **dict.fromkeys(["CH", "HR", "LI", "LV"], 21),
    **dict.fromkeys(["BG", "BH", "CR", "DE", "GB", "GE", "IE", "ME", "RS", "VA"], 22),
    **dict.fromkeys(["AE", "GI", "IL", "IQ", "OM", "SO", "TL"], 23),
    **dict.fromkeys(["AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG"], 24),
    **dict.fromkeys(["LY", "PT", "ST"], 25),
    **dict.fromkeys(["IS", "TR"], 26),
    **dict.fromkeys(["BI", "DJ", "FR", "GR", "IT", "MC", "MR", "SM"], 27),
    **dict.fromkeys(["AL", "AZ", "BY", "CY", "DO", "GT", "HN", "HU", "LB", "NI", "PL", "SV"], 28),
    **dict.fromkeys(["BR", "EG", "PS", "QA", "UA"], 29),
    **dict.fromkeys(["JO", "KW", "MU", "YE"], 30),
    **dict.fromkeys(["MT", "SC"], 31),
    **dict.fromkeys(["LC"], 32),
    **dict.fromkeys(["RU"], 33),
}
# E.164: at most 15 digits with the country code; the shortest numbers in use have 7.
PHONE_DIGITS = range(7, 16)
# ISO/IEC 7812 card numbers; the major networks' numbers start with 2 to 6.
CARD_DIGITS = range(13, 20)
CARD_FIRST_DIGITS = frozenset("23456")


@dataclass(frozen=True, slots=True)
class Found:
    """One value: where it is in the text, and its normal form (the same value written
    another way, "+49 30 1234567" or "+4930 1234567", has the same normal form)."""

    kind: str
    start: int
    end: int
    value: str


# --- the cheap first look ---------------------------------------------------------------------


def _class_map() -> bytes:
    table = bytearray(b"x" * 256)
    for byte in b"abcdefABCDEF":
        table[byte] = ord("h")
    for byte in b"0123456789":
        table[byte] = ord("0")
    for byte in b" -":
        table[byte] = ord("s")
    for byte in b"+@:.":
        table[byte] = byte
    return bytes(table)


_CLASSES = _class_map()
# What each kind's values always contain, written over the class map. Every alternative
# starts with a literal, so the regex engine skips ahead in C to the next digit, '+', '@' or
# ':' of the map.
_HINTS = {
    EMAIL: rb"@",
    PHONE: rb"\+0",
    IBAN: rb"0000000|000s000",  # 7 digits in a row, or groups of digits ("3704 0044")
    CREDIT_CARD: rb"0000000|000s000",
    IP: rb"0\.0{1,3}\.0{1,3}\.0|:[0h]{0,4}:",  # a dotted quad; two colons close together
}

# --- the full scan ----------------------------------------------------------------------------

# Everything made of digits, in one pass. It starts with one character class so that the
# regex engine skips in C to the next capital, digit, '(' or '+'; each kind then goes on from
# that first character. A run too short to be anything fails inside the engine.
_SEPARATOR = r"(?:[\ \-./]|\)\ ?|\ ?\()?"  # "+1 (555) 123-4567", "+44 (0)20 7946 0958"
_RUNS = re.compile(
    rf"""
    [A-Z0-9(+]
    (?:
      (?<=[A-Z])(?<![A-Za-z0-9][A-Z])(?P<iban>[A-Z][0-9]{{2}}(?:\ ?[A-Z0-9]){{11,32}})
    | (?<=[0-9])(?<![0-9.][0-9])(?P<ipv4>[0-9]{{0,2}}(?:\.[0-9]{{1,3}}){{3}})(?![0-9]|\.[0-9])
    | (?<=[0-9])(?P<card>(?:[\ \-]?[0-9]){{12,}})
    | (?P<phone>(?:(?<=\()\+|(?<=\+))[0-9](?:{_SEPARATOR}[0-9]){{6,}})
    )
    """,
    re.VERBOSE,
)
_EMAIL_LOCAL_REVERSED = re.compile(r"[A-Za-z0-9._%+\-]{1,64}")
_EMAIL_DOMAIN = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9\-])"
)
_IPV6_CORE = re.compile(r":[0-9A-Fa-f]{0,4}:")
_IPV6_CHARS = re.compile(r"[0-9A-Fa-f:.]{1,45}")
# Letters that are no hex digit: an address glued to one is part of a word ("std::vector").
_WORDISH = frozenset("GHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz_")
_DIGIT_GROUPS = re.compile(r"[0-9]+")
_NOT_DIGITS = re.compile(r"[^0-9]")


class Detector:
    """Finds the values of the chosen kinds in a text; built once per import."""

    def __init__(self, kinds: Iterable[str]) -> None:
        self.kinds = frozenset(kinds)
        unknown = self.kinds - set(KINDS)
        if unknown:
            raise ValueError(f"unknown PII kinds: {', '.join(sorted(unknown))}")
        hints = dict.fromkeys(_HINTS[kind] for kind in KINDS if kind in self.kinds)
        self._hint = re.compile(b"|".join(hints)).search if hints else None
        self._digits = bool(self.kinds & {PHONE, IBAN, CREDIT_CARD, IP})

    def find(self, text: str) -> list[Found]:
        """The values in `text`, in order, none overlapping another."""
        hint = self._hint
        if hint is None or hint(text.encode(errors="ignore").translate(_CLASSES)) is None:
            return []
        found: list[Found] = []
        if EMAIL in self.kinds and "@" in text:
            found += _emails(text)
        if self._digits:
            found += self._runs(text)
        if IP in self.kinds and ":" in text:
            found += _ipv6(text)
        return _without_overlaps(found) if len(found) > 1 else found

    def _runs(self, text: str) -> Iterator[Found]:
        position, search, kinds = 0, _RUNS.search, self.kinds
        while (match := search(text, position)) is not None:
            position, start, kind = match.end(), match.start(), match.lastgroup
            if kind == "card":
                if CREDIT_CARD in kinds and (card := _card(match.group(), start)) is not None:
                    yield card
            elif kind == "phone":
                if PHONE in kinds and (phone := _phone(match.group(), start)) is not None:
                    yield phone
                    position = phone.end  # digits after it may be something else
            elif kind == "ipv4":
                if IP in kinds and _is_ipv4(address := match.group()):
                    yield Found(IP, start, match.end(), address)
            elif IBAN in kinds and (iban := _iban(text, start, match.group())) is not None:
                yield iban
                position = iban.end
            else:  # not an IBAN: its digits may be something else
                position = start + 1


def _without_overlaps(found: list[Found]) -> list[Found]:
    """The earliest (then longest) of overlapping values: an e-mail address holding digits
    is one e-mail address."""
    kept: list[Found] = []
    end = -1
    for item in sorted(found, key=lambda f: (f.start, -f.end)):
        if item.start >= end:
            kept.append(item)
            end = item.end
    return kept


# --- e-mail -----------------------------------------------------------------------------------


def _emails(text: str) -> Iterator[Found]:
    at = text.find("@")
    while at != -1:
        found = _email_at(text, at)
        if found is not None:
            yield found
        at = text.find("@", at + 1)


def _email_at(text: str, at: int) -> Found | None:
    """The address around the '@' at `at`: a dot-atom local part (no leading, trailing or
    doubled dot) and a domain of valid labels ending in an alphabetic top-level domain."""
    local = _EMAIL_LOCAL_REVERSED.match(text[max(0, at - 64) : at][::-1])
    domain = _EMAIL_DOMAIN.match(text, at + 1)
    if local is None or domain is None:
        return None
    name = local.group()[::-1].lstrip(".")
    if not name or name.endswith(".") or ".." in name:
        return None
    start = at - len(name)
    return Found(EMAIL, start, domain.end(), f"{name}@{domain.group()}".lower())


# --- phone numbers, payment cards -------------------------------------------------------------


def _phone(run: str, start: int) -> Found | None:
    """An international number: '+', a country code (not 0), 7 to 15 digits in all; the
    longest such head of the run, which may go on with other numbers ("+44 20 7946 0958 2
    times")."""
    digits = _NOT_DIGITS.sub("", run)
    if digits[0] == "0" or len(digits) < PHONE_DIGITS.start:
        return None
    if len(digits) in PHONE_DIGITS:
        return Found(PHONE, start, start + len(run), "+" + digits)
    ends = [group.end() for group in _DIGIT_GROUPS.finditer(run)]
    for end in reversed(ends[:-1]):
        digits = _NOT_DIGITS.sub("", run[:end])
        if len(digits) in PHONE_DIGITS:
            return Found(PHONE, start, start + end, "+" + digits)
    return None


def _card(run: str, start: int) -> Found | None:
    """The card number in a run of digit groups: the whole run, else the longest (then first)
    stretch of whole groups, since the run may hold other digits around the card ("ref 12
    4111 1111 1111 1111")."""
    digits = _NOT_DIGITS.sub("", run)
    if len(digits) in CARD_DIGITS and _is_card(digits):
        return Found(CREDIT_CARD, start, start + len(run), digits)
    groups = [(group.start(), group.end()) for group in _DIGIT_GROUPS.finditer(run)]
    best: tuple[int, int, str] | None = None
    for first, (begin, _) in enumerate(groups):
        digits = ""
        for last in range(first, len(groups)):
            digits += run[groups[last][0] : groups[last][1]]
            if len(digits) >= CARD_DIGITS.stop:
                break
            longer = best is None or len(digits) > len(best[2])
            if len(digits) in CARD_DIGITS and longer and _is_card(digits):
                best = (begin, groups[last][1], digits)
    if best is None:
        return None
    begin, end, digits = best
    return Found(CREDIT_CARD, start + begin, start + end, digits)


def _is_card(digits: str) -> bool:
    return digits[0] in CARD_FIRST_DIGITS and luhn_valid(digits)


_DOUBLED = str.maketrans("0123456789", "0246813579")  # the digit sum of twice each digit


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of ISO/IEC 7812: from the right, every second digit doubled."""
    doubled = digits[-2::-2].translate(_DOUBLED)
    return (sum(map(int, digits[::-2])) + sum(map(int, doubled))) % 10 == 0


# --- IBAN -------------------------------------------------------------------------------------


def _iban(text: str, start: int, candidate: str) -> Found | None:
    """The IBAN at the head of `candidate`: its country's length of characters (spaces
    between groups allowed), ending where the text's word ends, and passing mod 97."""
    length = IBAN_LENGTHS.get(candidate[:2])
    if length is None:
        return None
    taken = end = 0
    for group in candidate.split(" "):
        if taken + len(group) >= length:  # the group holding the IBAN's last character
            end += length - taken
            taken = length
            break
        taken += len(group)
        end += len(group) + 1
    if taken < length or text[start + end : start + end + 1].isalnum():
        return None
    compact = candidate[:end].replace(" ", "")
    return Found(IBAN, start, start + end, compact) if iban_valid(compact) else None


_LETTER_VALUES = {ord(letter): str(value) for value, letter in enumerate(ascii_uppercase, 10)}


def iban_valid(iban: str) -> bool:
    """ISO 13616 check digits: the country code and check digits moved to the end, letters
    as 10 to 35, the number mod 97 is 1."""
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not (iban.isascii() and iban.isalnum()):
        return False
    return int((iban[4:] + iban[:4]).upper().translate(_LETTER_VALUES)) % 97 == 1


# --- IP addresses -----------------------------------------------------------------------------


def _is_ipv4(dotted: str) -> bool:
    """Four octets up to 255, none with a leading zero (which some read as octal): the form
    is then the address's one normal form."""
    return all(
        int(octet) <= 255 and (octet[0] != "0" or octet == "0") for octet in dotted.split(".")
    )


def _ipv6(text: str) -> Iterator[Found]:
    """Around each pair of close colons (every IPv6 address has one), the run of hex digits,
    colons and dots, if it stands alone and parses."""
    position = 0
    while (core := _IPV6_CORE.search(text, position)) is not None:
        before = _IPV6_CHARS.match(text[max(0, core.start() - 40) : core.start()][::-1])
        start = core.start() - (before.end() if before else 0)
        after = _IPV6_CHARS.match(text, core.start())
        end = after.end() if after else core.end()
        position = end
        candidate = text[start:end].rstrip(".")
        end = start + len(candidate)
        if text[start - 1 : start] in _WORDISH or text[end : end + 1] in _WORDISH:
            continue
        try:
            address = ipaddress.IPv6Address(candidate)
        except ValueError:  # a time of day, "a::b::c", a word
            continue
        if candidate.strip(":"):  # "::" alone is punctuation more often than an address
            yield Found(IP, start, end, address.compressed)
