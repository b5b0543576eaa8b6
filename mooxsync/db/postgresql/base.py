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

The deferred statements go on libpq's own calls with their values quoted
client-side by psycopg (the quoting its ClientCursor does): on the hot path
a psycopg cursor costs as much as the database's work for the statement.

Selected by settings when DATABASE_URL is a PostgreSQL one.
"""

from functools import lru_cache

from django.db.backends.postgresql import base
from psycopg import IsolationLevel, errors, pq
from psycopg.adapt import Transformer


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
        self._literals: Transformer | None = None  # per connection: see _quoted
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
        pgconn = self.connection.pgconn
        # psycopg begins a transaction before a cursor's first statement:
        # when the deferred ones are the first, they begin it.
        idle = pgconn.transaction_status == pq.TransactionStatus.IDLE
        begin = [self._begin_sql()] if idle and not self.connection.autocommit else []
        query = b"; ".join(
            begin
            + [self._quoted(s.sql, s.params) for s in statements]
            + ([then.encode()] if then else [])
        )
        with self.connection.lock:
            pgconn.send_query(query)
            results = []
            while (result := pgconn.get_result()) is not None:
                results.append(result)
        for statement, result in zip(statements, results[len(begin) :], strict=False):
            if result.status == pq.ExecStatus.TUPLES_OK:
                self._literals.set_pgresult(result)
                statement.rows = self._literals.load_rows(0, result.ntuples, tuple)
            elif result.status == pq.ExecStatus.COMMAND_OK:
                statement.rows = []
        # A failing statement is the last result: the server skips the rest.
        if results and results[-1].status == pq.ExecStatus.FATAL_ERROR:
            encoding = self.connection.info.encoding
            raise errors.error_from_result(results[-1], encoding=encoding)

    def _begin_sql(self) -> bytes:
        """Return the BEGIN psycopg would send, with the connection's options."""
        conn, sql = self.connection, "BEGIN"
        if conn.isolation_level is not None:
            level = IsolationLevel(conn.isolation_level).name.replace("_", " ")
            sql += f" ISOLATION LEVEL {level}"
        if conn.read_only is not None:
            sql += " READ ONLY" if conn.read_only else " READ WRITE"
        if conn.deferrable is not None:
            sql += " DEFERRABLE" if conn.deferrable else " NOT DEFERRABLE"
        return sql.encode()

    def _quoted(self, sql: str, params: list) -> bytes:
        """Return ``sql`` with its placeholders replaced by quoted ``params``."""
        if self._literals is None or self._literals.connection is not self.connection:
            self._literals = Transformer(self.connection)
        literal = self._literals.as_literal
        parts = _sql_parts(sql)
        if len(parts) != len(params) + 1:
            raise ValueError(f"{len(params)} values for {len(parts) - 1} placeholders")
        quoted = [parts[0]]
        for value, part in zip(params, parts[1:], strict=True):
            quoted += (literal(value), part)
        return b"".join(quoted)

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


@lru_cache(maxsize=256)
def _sql_parts(sql: str) -> tuple[bytes, ...]:
    """Return ``sql`` split at its ``%s`` placeholders (it holds no other %)."""
    return tuple(part.encode() for part in sql.split("%s"))
