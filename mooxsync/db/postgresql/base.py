"""PostgreSQL as Django has it, plus statements that ride with the next one.

On PostgreSQL a save costs about three round trips (the statement, then
COMMIT, with BEGIN sent ahead), and one more round trip is most of what an
extra statement costs. ``statement_defer`` lets a caller hand over a
statement that must run in the current transaction but need not run at once
(the outbox's insert, on every save of a synced model): it is sent just
before the next statement on this connection, or in the same round trip as
COMMIT when nothing else comes. The database sees the same statements in the
same order as if it had been sent at once, so what follows it (a query, a
savepoint's rollback) sees it; a rollback discards it unsent.

Selected by settings when DATABASE_URL is a PostgreSQL one.
"""

from itertools import chain

from django.db.backends.postgresql import base


class DeferredStatement:
    """A statement waiting to be sent; ``rows`` holds what it returned once sent."""

    __slots__ = ("params", "rows", "sql")

    def __init__(self, sql: str, params: list) -> None:
        self.sql = sql
        self.params = params
        self.rows: list[tuple] | None = None


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's PostgreSQL backend with ``statement_defer()``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._deferred: list[DeferredStatement] = []
        # Every statement Django runs passes here first (see execute_wrapper).
        self.execute_wrappers.append(self._deferred_send_first)

    def statement_defer(self, sql: str, params: list) -> DeferredStatement:
        """Send ``sql`` with the next statement of this transaction, or COMMIT.

        Only inside an atomic block: outside one, each statement commits on
        its own, so run it at once instead. ``sql`` holds no ``%`` but its
        placeholders.
        """
        if not self.in_atomic_block:
            raise RuntimeError("statement_defer() needs an atomic block")
        statement = DeferredStatement(sql, params)
        self._deferred.append(statement)
        return statement

    def _deferred_send(self, then: str = "") -> None:
        """Send the deferred statements (and ``then``) in one round trip."""
        statements, self._deferred = self._deferred, []
        sql = "; ".join([s.sql for s in statements] + ([then] if then else []))
        params = list(chain.from_iterable(s.params for s in statements))
        # Client-side binding: several statements with parameters in one query.
        with self.Database.ClientCursor(self.connection) as cursor:
            cursor.execute(sql, params)
            for statement in statements:
                statement.rows = cursor.fetchall() if cursor.description else []
                cursor.nextset()

    def _deferred_send_first(self, execute, sql, params, many, context):
        if self._deferred:
            with self.wrap_database_errors:
                self._deferred_send()
        return execute(sql, params, many, context)

    def _commit(self) -> None:
        if self._deferred and self.connection is not None:
            with self.wrap_database_errors:
                self._deferred_send(then="COMMIT")
            return  # committed: psycopg saw it and has nothing left to do
        super()._commit()

    def _rollback(self) -> None:
        self._deferred = []
        super()._rollback()

    def _close(self) -> None:
        self._deferred = []
        super()._close()
