"""The one sanitiser for text that came from outside (names, chat text, CDR fields, files).

Control characters (C0, C1, ESC, DEL) and bidirectional overrides could move
the cursor, change colours, retitle the terminal or reorder what a person
reads. They become visible placeholders, so that what is shown is what is
there, and nothing reaches the terminal raw.
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_WITH_NEWLINES = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")


def _placeholder(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ .. ␟, e.g. ␛ for ESC
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def sanitise(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every unsafe character shown as a visible placeholder."""
    pattern = _UNSAFE if keep_newlines else _UNSAFE_WITH_NEWLINES
    return pattern.sub(_placeholder, text)


def json_safe(text: str) -> str:
    """JSON text with C1 and bidi controls escaped too (json.dumps leaves them raw)."""
    return re.sub(f"[\x7f-\x9f{_BIDI}]", lambda m: f"\\u{ord(m.group()):04x}", text)
