"""The domain: records, filters and pages, roles and the policy table, purposes of access,
phone numbers, dates, and the pure rules of annotations, retention and subject rights.

No I/O. It imports only `errors`; every other package may import it.
"""
