"""Backup (SyncBackupJob): repair the drift that no signal saw.

Compare bucket digests of a sync's source records with its target's through
the target's signed digest endpoint, narrow down to the records that differ,
and send those (and deletes) through the outbox, so the target applies them
by its own rules like any other change. Traffic grows with the drift, not
with the table.
"""
