"""The register's maintenance facet, behind the door: doctor, scan, keys, backup and
restore. It may import the rooms and `register.gate`; the room-level tools it
uses (copying files, pg_dump) live in `kaiku_tui.maintenance`.
"""
