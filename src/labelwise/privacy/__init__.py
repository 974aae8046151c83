"""Privacy: PII found in items at import, and masked, pseudonymised or flagged.

Pure: the standard library only, so every layer can use it. `pii` finds the values,
`scrubbing` applies a project's rule to them.
"""

from labelwise.privacy.pii import KINDS, Detector, Found, iban_valid, luhn_valid
from labelwise.privacy.scrubbing import MODES, Findings, Scrubber, content_key, project_key, token

__all__ = [
    "KINDS",
    "MODES",
    "Detector",
    "Findings",
    "Found",
    "Scrubber",
    "content_key",
    "iban_valid",
    "luhn_valid",
    "project_key",
    "token",
]
