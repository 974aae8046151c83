"""What a project does with the PII found in an item: mask it, pseudonymise it, or flag it.

Masking writes the kind in place of the value (`[EMAIL]`). Pseudonymising writes a token keyed
by the project (`<EMAIL_3f9a1c04be7d5e21>`, an HMAC-SHA256 of the value's normal form): the same
person's address gives the same token throughout the project, and without the key nobody can
check a token against a guessed value. Flagging leaves the text as it was. Every mode reports
what it found, per field and kind, for the item's marker and the import's summary.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any

from labelwise.privacy.pii import KINDS, Detector, Found

MASK, PSEUDONYMISE, FLAG = "mask", "pseudonymise", "flag"
MODES = (MASK, PSEUDONYMISE, FLAG)
# 64 bits: two of a million distinct values in a project share one with odds of 1 in 37 million.
TOKEN_HEX = 16
_MASKS = {kind: f"[{kind.upper()}]" for kind in KINDS}

# What an item's fields held: {field: {kind: count}}.
Findings = dict[str, dict[str, int]]


def project_key(data_key: bytes, project_id: int) -> bytes:
    """The project's own key for tokens, from the data dir's: two projects' tokens of one
    value differ, so they cannot be matched across projects."""
    return hmac.digest(data_key, b"labelwise pii tokens, project %d" % project_id, "sha256")


def content_key(data_key: bytes, project_id: int) -> bytes:
    """The key of the content hashes of a project that rewrites PII. They are taken before
    the rewriting (two tickets that differ only in their e-mail address stay two items), so
    they are keyed: a hash must not confirm a guess at the original text."""
    return hmac.digest(data_key, b"labelwise pii content hash, project %d" % project_id, "sha256")


def token(key: bytes, found: Found) -> str:
    """The value's pseudonym under the project's key: its kind and an HMAC of its normal form."""
    digest = hmac.digest(key, f"{found.kind}:{found.value}".encode(), "sha256")
    return f"<{found.kind.upper()}_{digest.hex()[:TOKEN_HEX]}>"


class Scrubber:
    """A project's PII rule, applied to one item's data at a time."""

    def __init__(
        self, fields: Iterable[str], kinds: Iterable[str], mode: str, key: bytes | None = None
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown PII mode {mode!r}")
        if mode == PSEUDONYMISE and not key:
            raise ValueError("pseudonymising needs the project's key")
        self.fields = tuple(fields)
        self.mode = mode
        self.rewrites = mode != FLAG
        self._detector = Detector(kinds)
        self._key = key or b""

    def scrub(self, data: Mapping[str, Any]) -> tuple[Mapping[str, Any], Findings | None]:
        """The data as it is to be stored (a new dict when a value changed, else `data`
        itself) and what was found, None for nothing."""
        findings: Findings | None = None
        changed: dict[str, Any] | None = None
        find = self._detector.find
        for name in self.fields:
            value = data.get(name)
            counts: dict[str, int] = {}
            if value.__class__ is str:
                found = find(value)
                if not found:  # the common case: the look is all it costs
                    continue
                clean = self._rewrite(value, found, counts)
            elif value is None:
                continue
            else:
                clean = self._value(value, counts)
            if counts:
                findings = findings or {}
                findings[name] = counts
                if self.rewrites:
                    changed = changed or dict(data)
                    changed[name] = clean
        return (data if changed is None else changed), findings

    def text(self, text: str, counts: dict[str, int]) -> str:
        """`text` with its PII replaced as the mode says; adds what it found to `counts`."""
        found = self._detector.find(text)
        return self._rewrite(text, found, counts) if found else text

    def _rewrite(self, text: str, found: list[Found], counts: dict[str, int]) -> str:
        for item in found:
            counts[item.kind] = counts.get(item.kind, 0) + 1
        if not self.rewrites:
            return text
        parts: list[str] = []
        last = 0
        for item in found:
            parts += (text[last : item.start], self._replacement(item))
            last = item.end
        parts.append(text[last:])
        return "".join(parts)

    def _replacement(self, found: Found) -> str:
        return token(self._key, found) if self.mode == PSEUDONYMISE else _MASKS[found.kind]

    def _value(self, value: Any, counts: dict[str, int]) -> Any:
        """Text as it is; the strings inside a chat's turns or a pair's responses too."""
        if isinstance(value, str):
            return self.text(value, counts)
        if isinstance(value, list):
            return [self._value(entry, counts) for entry in value]
        if isinstance(value, dict):
            return {key: self._value(entry, counts) for key, entry in value.items()}
        return value  # a number or a boolean: no text to look through
