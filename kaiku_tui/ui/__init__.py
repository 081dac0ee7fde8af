"""The TUI: a face on the Register, built with Textual. Nothing here touches the index,
the vault or the audit log; it asks the Register and shows what comes back."""
