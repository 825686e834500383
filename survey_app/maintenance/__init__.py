"""Operators' maintenance: backups and restores of the database, and the retention of free-text comments.

``flask backup`` / ``flask restore`` copy a SQLite database with SQLite's online backup API (``sqlite.py``); on
PostgreSQL they name the ``pg_dump`` / ``pg_restore`` command to run instead (``postgres.py``). ``flask purge``
erases the comments older than the retention period the privacy notice states (``purge.py``); ``flask erase-order``
erases the traces of the order in which the answers were written (``order.py``). See docs/backup.md.
"""

from __future__ import annotations


class MaintenanceError(Exception):
    """A backup, restore or purge refused or failed: the message says why, for the operator."""
