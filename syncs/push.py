"""The master tells platforms of their syncs, in its push of the platform list.

Each body of the master's push of the platform list (platforms.roster) carries
the target's syncs, listed as the master's syncs API lists them to the sync
API job (syncs.pull), and the target refreshes its syncs from them as that
job does.
"""

from django.db.models import Q

from platforms.models import Platform
from syncs.api.serializers import SyncSerializer
from syncs.selectors import sync_list


def syncs_push_part(target: Platform) -> list[dict]:
    """Return the syncs of ``target`` (source or target) as the syncs API lists them."""
    syncs = sync_list().filter(Q(source_platform=target) | Q(target_platform=target))
    return SyncSerializer(syncs, many=True).data
