"""The command line (`kaiku-tui`, `python -m kaiku_tui`): `main` is its entry point.

One module per command group (persons.py, orgs.py, query.py, ingest.py, audit.py,
annotations.py, samples.py, subject.py, retention.py, maintenance.py, demo.py,
init.py, tui.py), what they share in common.py and output.py, and main.py, which
wires them together. A group module imports no other group.
"""

from kaiku_tui.cli.main import main

__all__ = ["main"]
