"""Admin of the syncs app: syncs, the outbox's delivery log, platforms' syncs.

Importing the package registers every admin class (Django's autodiscover
imports ``syncs.admin``).
"""

from syncs.admin import outbox, platform, sync  # noqa: F401
