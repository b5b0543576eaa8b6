"""Views of the syncs, syncs-for-platform and models APIs."""

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from platforms.api.base import SyncAPIMixin
from platforms.models import Platform
from syncs.api.serializers import (
    PlatformSyncFilterSerializer,
    SyncableModelSerializer,
    SyncFilterSerializer,
    SyncSerializer,
)
from syncs.selectors import sync_list, syncable_models_describe


@extend_schema_view(list=extend_schema(parameters=[SyncFilterSerializer]))
class SyncViewSet(SyncAPIMixin, viewsets.ModelViewSet):
    """List, read, create, change and delete syncs.

    The list narrows by ``?source_platform=<id>``, ``?target_platform=<id>`` and
    ``?status=true|false``. Platform tokens read; staff sessions do everything.
    """

    serializer_class = SyncSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        if self.action != "list":
            return sync_list()
        filters = SyncFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return sync_list(
            source_platform_id=data["source_platform"],
            target_platform_id=data["target_platform"],
            status=data["status"],
        )


@extend_schema_view(get=extend_schema(parameters=[PlatformSyncFilterSerializer]))
class PlatformSyncListView(SyncAPIMixin, generics.ListAPIView):
    """List the syncs of the platform, paginated.

    ``?role=source`` (the default) lists the syncs whose source it is,
    ``?role=target`` those whose target it is, ``?role=any`` both. Each sync
    names its platforms by id and by uuid and domain, so a platform whose ids
    differ can recreate it (what SyncApiJob reads).
    """

    serializer_class = SyncSerializer

    def get_queryset(self):
        filters = PlatformSyncFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        platform = get_object_or_404(Platform, pk=self.kwargs["platform_id"])
        sides = {
            "source": Q(source_platform=platform),
            "target": Q(target_platform=platform),
        }
        role = filters.validated_data["role"]
        return sync_list().filter(sides.get(role, sides["source"] | sides["target"]))


class SyncableModelListView(SyncAPIMixin, APIView):
    """List the models this platform offers for syncing, by label, unpaginated.

    The list is short (one entry per installed model) and the Sync form needs
    all of it at once.
    """

    pagination_class = None

    @extend_schema(responses=SyncableModelSerializer(many=True))
    def get(self, request):
        models = syncable_models_describe()
        return Response(SyncableModelSerializer(models, many=True).data)
