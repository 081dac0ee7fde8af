"""An admin's upkeep of a register: doctor, scan, backup and restore, index upkeep.

`checks.Check` is the doctor's plain data (the TUI's admin screen shows it);
`upkeep.Upkeep` is the Register's maintenance facet (`Register.upkeep()`):
authorized for admins, audited, like every other door of the register.
"""
