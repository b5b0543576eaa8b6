"""How the delivery logs (outbox and inbox) show durations and payloads."""

import json
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html


def duration_text(duration: timedelta | None) -> str:
    """Return a short duration ("0.42 s", "5 min 3 s", "2 h 5 min"), or ""."""
    if duration is None:
        return ""
    seconds = max(duration.total_seconds(), 0.0)
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def payload_html(data) -> str:
    """Return data as indented JSON in a ``<pre>`` block, escaped."""
    text = json.dumps(data, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder)
    return format_html('<pre class="sync-payload">{}</pre>', text)
