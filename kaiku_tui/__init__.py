"""kaiku-tui: the register of recorded customer calls and chats."""

__version__ = "0.1.0"
