"""Reports for administrators (MAIL-11, MAIL-13, MAIL-14): login records, statistics with
inline SVG charts, account health with its actions, and CSV export of every table.

``logins``, ``statistics`` and ``account_health`` are the services (plain async functions the
tests call), ``routes`` the pages under ``/admin``; ``charts`` and ``csv_export`` render.
"""
