"""Room-level tools for an admin's upkeep: copying files into a backup, pg_dump and
pg_restore, checking one sealed recording (scan), and the doctor's plain data
(`checks.Check`). They may import the other rooms, never `register` or a face:
the register's upkeep facet (`register/upkeep/`) authorizes, audits and calls them.
"""
