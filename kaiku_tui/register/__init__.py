"""The door: `Register`, opened for a named person, and its facets (recordings, notes,
cases, holds, retention, subject rights, upkeep, …), which share one gate.

It may import the rooms (domain, index, vault, audit, audio, ingest, maintenance),
never the faces (cli, ui) nor textual; a facet imports the gate, never the door.
"""

from kaiku_tui.register.door import Register

__all__ = ["Register"]
