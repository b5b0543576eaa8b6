"""Signals the platforms app sends."""

from django.dispatch import Signal

# Sent after the platforms a record belongs to changed, with ``record``: by
# platform_relations_add, _remove and _set, from the admin's field or from code.
platform_relations_changed = Signal()
