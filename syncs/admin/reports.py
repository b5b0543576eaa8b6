"""Turn the reports of services run from the admin into one-line messages."""

from django.contrib import messages


def report_text(report, *, title: str) -> str:
    """Return a report on one line: its own text, or ``title: key: value, ...``."""
    if hasattr(report, "as_text"):
        return " ".join(report.as_text().split())
    if not isinstance(report, dict):
        return f"{title}: {report}"
    pairs = ", ".join(
        f"{key}: {_value_text(key, value)}" for key, value in report.items()
    )
    return f"{title}: {pairs}"


def _value_text(key, value) -> str:
    """Show errors themselves, and other lists (of records) by their length."""
    if not isinstance(value, list | tuple | set):
        return str(value)
    if key in ("errors", "error") and value:
        return "; ".join(str(item) for item in value)
    return str(len(value))


def report_level(report) -> int:
    """Return WARNING for a report that lists errors, else SUCCESS."""
    failed = isinstance(report, dict) and (report.get("errors") or report.get("error"))
    return messages.WARNING if failed else messages.SUCCESS
