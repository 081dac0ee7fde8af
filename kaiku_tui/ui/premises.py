"""The mark of a review at the premises: one line on every screen of such a session.

`kaiku-tui review REQUEST_REF` flags the session (the register narrows it to the
data subject's own recordings, reading and listening only, every event carrying
the request's reference); the line says so to the DPO and to the customer
beside them, in reverse video so that it does not depend on colour.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kaiku_tui.register import Register
from kaiku_tui.ui.i18n import Texts


class PremisesBanner(Static):
    DEFAULT_CSS = """
    PremisesBanner { height: 1; display: none; text-style: bold reverse; padding: 0 1; }
    PremisesBanner.-shown { display: block; }
    """

    def __init__(self, register: Register, texts: Texts) -> None:
        review = register.premises
        words = "" if review is None else texts("premises.banner", ref=review.request_ref)
        super().__init__(Text(words, no_wrap=True, overflow="ellipsis"), classes="")
        self.set_class(review is not None, "-shown")
