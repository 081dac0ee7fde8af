"""The TUI: a face on the register, built with Textual. It may import `register`, `domain`,
`config`, `errors`, `audio` (the player) and `maintenance.checks`; never the index, the
vault or the audit log. Textual's private API is touched only in `textual_compat.py`."""
