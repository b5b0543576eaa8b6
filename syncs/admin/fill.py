"""How the sync admin shows a sync's initial fill (syncs.fill)."""

from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext

from syncs.fill import fill_progress
from syncs.models import Sync, SyncFill


def _number(value: int) -> str:
    return formats.number_format(value, force_grouping=True)


def _fill_of(sync: Sync) -> SyncFill | None:
    try:
        return sync.fill
    except SyncFill.DoesNotExist:
        return None


def _running(fill: SyncFill) -> SafeString:
    progress = fill_progress(fill)
    if progress.total is None:
        return format_html("{}", gettext("starting: counting the records"))
    detail = gettext("%(done)s of %(total)s, %(rate)s/s") % {
        "done": _number(progress.done),
        "total": _number(progress.total),
        "rate": _number(round(progress.rate)),
    }
    if progress.left is not None:
        detail += ", " + gettext("%(left)s left") % {"left": progress.left}
    if not fill.sync.status:
        detail += " " + gettext("(paused with its sync)")
    return format_html(
        '<progress value="{}" max="100" title="{}%">{}%</progress> {}',
        progress.percent,
        progress.percent,
        progress.percent,
        detail,
    )


def fill_state_html(sync: Sync, *, here: bool) -> SafeString:
    """Return the fill's state: not started, running with progress, done, failed.

    ``here``: this platform is the sync's source, where its fill runs.
    """
    if not here:
        return format_html(
            "{}", gettext("runs on %(domain)s") % {"domain": sync.source_platform}
        )
    fill = _fill_of(sync)
    if fill is None:
        return format_html("{}", gettext("not started"))
    if fill.status == SyncFill.Status.RUNNING:
        return _running(fill)
    if fill.status == SyncFill.Status.DONE:
        return format_html(
            "{}",
            gettext("done %(when)s: %(count)s records")
            % {
                "when": formats.date_format(fill.finished_at, "SHORT_DATETIME_FORMAT"),
                "count": _number(fill.queued),
            },
        )
    return format_html(
        '<span class="errornote-inline" title="{}">{}</span>',
        fill.error,
        gettext("failed: %(error)s") % {"error": Truncator(fill.error).chars(80)},
    )
