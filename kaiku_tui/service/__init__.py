"""The service's doors (docs/ARCHITECTURE.md, "The trust boundary"): a room.

Where a machine has an installation, the register runs as its own service account
and people reach it only through a door: the sudo door (a person's `kaiku-tui`
re-executes itself through one sudoers rule) or the SSH door (sshd's forced command
per key in the service account's `authorized_keys`). This package holds what the
doors and `kaiku-tui install` need and nothing of the register: the door file
(`doorfile.py`), who is asking and what to do about it (`entry.py`), the process
hardening (`harden.py`), the authorized_keys lines (`sshkeys.py`), the sudoers rule
(`sudoers.py`) and the install plan (`install.py`).

A room: it imports `errors`, `config` and the standard library only — never the
register, a face or Textual.
"""
