"""The opt-in PostgreSQL accelerator's deferred statements (mooxsync.db.postgresql).

They need a PostgreSQL DATABASE_URL with MOOXSYNC_DB_ACCELERATOR=true, as
.ci/run's accelerator step sets: on Django's stock engines (every other pass)
there is no such backend to test.
"""

import json

import psycopg
import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoPostgreSQL

from syncs.models import WorkQueue
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.skipif(
        not hasattr(connection, "statement_defer"),
        reason="tests the opt-in accelerator: run with a postgres:// DATABASE_URL "
        "and MOOXSYNC_DB_ACCELERATOR=true",
    ),
    pytest.mark.django_db(transaction=True),
]

INSERT = (
    "INSERT INTO syncs_workqueue (name, requested) VALUES (%s, false) RETURNING name"
)


def _committed_names() -> set[str]:
    """Read the queue names from a connection of its own: committed rows only."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        password=settings["PASSWORD"] or None,
    ) as other:
        return {name for (name,) in other.execute("SELECT name FROM syncs_workqueue")}


def test_the_switch_selects_the_deferring_backend():
    wrapper = connections["default"]
    assert type(wrapper).__module__ == "mooxsync.db.postgresql.base"
    assert isinstance(wrapper, DjangoPostgreSQL)


def test_deferred_statement_waits_then_goes_with_commit():
    with transaction.atomic():
        UserFactory(username="ada")
        deferred = connection.statement_defer(INSERT, ["q1"])
        assert deferred.rows is None  # not sent yet

    assert deferred.rows == [("q1",)]
    assert _committed_names() == {"q1"}
    idle = psycopg.pq.TransactionStatus.IDLE
    assert connection.connection.info.transaction_status == idle


def test_next_statement_sends_the_deferred_one_first():
    with transaction.atomic():
        deferred = connection.statement_defer(INSERT, ["q1"])

        # The query below sees the row: the database got the insert first.
        assert list(WorkQueue.objects.values_list("name", flat=True)) == ["q1"]
        assert deferred.rows == [("q1",)]
        assert _committed_names() == set()

    assert _committed_names() == {"q1"}


def test_rollback_discards_deferred_statements_unsent():
    with pytest.raises(RuntimeError), transaction.atomic():
        deferred = connection.statement_defer(INSERT, ["q1"])
        raise RuntimeError("the change fails")

    assert deferred.rows is None
    assert _committed_names() == set()
    assert not WorkQueue.objects.exists()


def test_savepoint_rollback_undoes_only_what_was_deferred_inside_it():
    with transaction.atomic():
        connection.statement_defer(INSERT, ["kept"])
        with pytest.raises(RuntimeError), transaction.atomic():
            connection.statement_defer(INSERT, ["dropped"])
            raise RuntimeError("the inner change fails")

    assert _committed_names() == {"kept"}


def test_failing_deferred_statement_fails_the_commit_and_rolls_everything_back():
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="ada")
        connection.statement_defer(INSERT, ["twice"])
        connection.statement_defer(INSERT, ["twice"])

    assert _committed_names() == set()
    assert not WorkQueue.objects.exists()
    # The connection is usable again.
    UserFactory(username="grace")


def test_defer_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="atomic block"):
        connection.statement_defer(INSERT, ["q1"])


def test_values_are_quoted_so_they_arrive_as_they_were():
    awkward = 'O\'Brien \\ "quoted" ; DROP TABLE syncs_workqueue; -- é 中'
    with transaction.atomic():
        connection.statement_defer(INSERT, [awkward])
        read = connection.statement_defer(
            "SELECT name, requested, lease_until, %s::jsonb, %s FROM syncs_workqueue",
            [json.dumps({"key": awkward}), None],
        )

    [(name, requested, lease_until, key, nothing)] = read.rows
    assert (name, requested, lease_until, nothing) == (awkward, False, None, None)
    assert json.loads(key) == {"key": awkward}  # Django reads jsonb as text
    assert _committed_names() == {awkward}


def test_a_transaction_the_deferred_statements_begin_keeps_its_isolation_level():
    connection.ensure_connection()
    connection.connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        with transaction.atomic():
            level = connection.statement_defer(
                "SELECT current_setting('transaction_isolation')", []
            )
    finally:
        connection.connection.isolation_level = None

    assert level.rows == [("repeatable read",)]
