"""What stops a backup."""


class BackupError(Exception):
    """A backup cannot run: a bad sync, or a target that cannot be asked."""
