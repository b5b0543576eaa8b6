"""Integers from outside, range-checked before they reach the database.

A number past a signed 64-bit integer (BigAutoField's range) makes SQLite's
driver raise OverflowError and PostgreSQL or MariaDB refuse the query: a 500
where a 4xx belongs. Every integer read from a query string, a path or a
signed body goes through ``Int64Field`` or the ``id`` path converter.
"""

from django.urls import register_converter
from rest_framework import serializers

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


# How schemas describe ``<id:...>`` (drf-spectacular's PATH_CONVERTER_OVERRIDES).
ID_PATH_SCHEMA = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}


class Int64Field(serializers.IntegerField):
    """An integer within a signed 64-bit range, narrower if asked."""

    def __init__(self, **kwargs) -> None:
        kwargs["min_value"] = max(kwargs.get("min_value", INT64_MIN), INT64_MIN)
        kwargs["max_value"] = min(kwargs.get("max_value", INT64_MAX), INT64_MAX)
        super().__init__(**kwargs)


class IdField(Int64Field):
    """A row id: a positive signed 64-bit integer."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)


class IdConverter:
    """``<id:name>``: Django's ``<int:name>`` within a signed 64-bit range.

    A longer number matches no URL, so it is a 404 like any unknown id.
    """

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > INT64_MAX:
            raise ValueError(f"{value} is past the largest id")
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
