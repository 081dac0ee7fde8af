"""Text from outside, made fit for the screen: sanitised, never markup, placeholders visible.

Everything that came from outside (chat messages, names, tags, numbers,
transcript lines) is drawn through `untrusted()`. The domain sanitiser turns
control and bidi characters into placeholders (␛, <U+202E>); here they are
also styled, so a person sees that something was there. The result is a Rich
`Text`, which Textual draws as it is: `[bold]` in a message stays `[bold]`.
"""

from __future__ import annotations

import re

from rich.style import Style
from rich.text import Text

from kaiku_tui.domain.text import sanitise

PLACEHOLDER = re.compile("[\u2400-\u2421]|<U\\+[0-9A-F]{4}>")
PLACEHOLDER_STYLE = Style(reverse=True)


def untrusted(text: str, style: Style | str = "", *, keep_newlines: bool = True) -> Text:
    shown = Text(sanitise(text, keep_newlines=keep_newlines), style=style, end="")
    shown.highlight_regex(PLACEHOLDER, PLACEHOLDER_STYLE)
    return shown
