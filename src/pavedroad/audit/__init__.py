"""The audit log: who did what to which resource, when, from where, and how it ended.

Services write with :func:`pavedroad.audit.service.record`; auditors read through the API
(``/api/audit``), the CLI (``pavedroad audit``) and the portal page (``/audit``). Rows are only
ever added; :mod:`pavedroad.audit.retention` is the one way they leave.
"""
