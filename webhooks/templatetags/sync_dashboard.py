"""The ``{% sync_dashboard %}`` tag: sync figures on the admin index."""

from django import template

from webhooks.dashboard import dashboard_read

register = template.Library()


@register.inclusion_tag("admin/sync_dashboard.html")
def sync_dashboard() -> dict:
    """Render the dashboard of syncs, deliveries and platforms."""
    return {"dashboard": dashboard_read()}
