"""A few rows from PostgreSQL through libpq itself, for the quiet tick (quiet_tick.py).

psycopg is the service's PostgreSQL driver, and importing it takes 150-200 ms (asyncio, its
type system, the adapters), about five times `python -c pass`: most of a quiet tick's budget.
The quiet check reads three small rows with fixed queries, which libpq's plain C calls do in
a few milliseconds through ctypes. The library is the system's (`libpq.so.5`) or the copy that
psycopg's binary wheel carries; when neither loads, `connect` raises and the caller uses psycopg.
"""
from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path
from typing import Any

CONNECTION_OK = 0
PGRES_COMMAND_OK, PGRES_TUPLES_OK = 1, 2
_library: ctypes.CDLL | None = None


class LibpqError(Exception):
    """libpq could not be loaded, could not connect, or a query failed."""


def _candidates() -> list[str]:
    found = ["libpq.so.5"]
    spec = importlib.util.find_spec("psycopg_binary")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent.parent / "psycopg_binary.libs"
        found += sorted(str(path) for path in bundled.glob("libpq*.so*"))
    return found


def _load() -> ctypes.CDLL:
    global _library
    if _library is None:
        for name in _candidates():
            try:
                library = ctypes.CDLL(name)
            except OSError:
                continue
            _declare(library)
            _library = library
            break
        else:
            raise LibpqError("no libpq to load")
    return _library


def _declare(lib: ctypes.CDLL) -> None:
    pointer, text = ctypes.c_void_p, ctypes.c_char_p
    signatures: dict[str, tuple[list[Any], Any]] = {
        "PQconnectdbParams": ([ctypes.POINTER(text), ctypes.POINTER(text), ctypes.c_int], pointer),
        "PQstatus": ([pointer], ctypes.c_int),
        "PQerrorMessage": ([pointer], text),
        "PQexec": ([pointer, text], pointer),
        "PQresultStatus": ([pointer], ctypes.c_int),
        "PQntuples": ([pointer], ctypes.c_int),
        "PQnfields": ([pointer], ctypes.c_int),
        "PQgetisnull": ([pointer, ctypes.c_int, ctypes.c_int], ctypes.c_int),
        "PQgetvalue": ([pointer, ctypes.c_int, ctypes.c_int], text),
        "PQclear": ([pointer], None),
        "PQfinish": ([pointer], None),
    }
    for name, (arguments, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes, function.restype = arguments, result


class Connection:
    """A libpq connection with `execute(sql).fetchall()/.fetchone()`, values as text or None."""

    def __init__(self, url: str, timeout_seconds: int = 10) -> None:
        self._lib = _load()
        keys = (ctypes.c_char_p * 3)(b"dbname", b"connect_timeout", None)
        values = (ctypes.c_char_p * 3)(url.encode(), str(timeout_seconds).encode(), None)
        self._conn = self._lib.PQconnectdbParams(keys, values, 1)
        if not self._conn or self._lib.PQstatus(self._conn) != CONNECTION_OK:
            message = self._lib.PQerrorMessage(self._conn) if self._conn else b"out of memory"
            self.close()
            raise LibpqError((message or b"").decode(errors="replace").strip())

    def execute(self, sql: str) -> Rows:
        result = self._lib.PQexec(self._conn, sql.encode())
        try:
            if self._lib.PQresultStatus(result) not in (PGRES_COMMAND_OK, PGRES_TUPLES_OK):
                raise LibpqError(self._lib.PQerrorMessage(self._conn).decode(errors="replace").strip())
            return Rows([tuple(None if self._lib.PQgetisnull(result, row, column)
                               else self._lib.PQgetvalue(result, row, column).decode()
                               for column in range(self._lib.PQnfields(result)))
                         for row in range(self._lib.PQntuples(result))])
        finally:
            self._lib.PQclear(result)

    def close(self) -> None:
        if self._conn:
            self._lib.PQfinish(self._conn)
            self._conn = None


class Rows:
    def __init__(self, rows: list[tuple[str | None, ...]]) -> None:
        self.rows = rows

    def fetchall(self) -> list[tuple[str | None, ...]]:
        return self.rows

    def fetchone(self) -> tuple[str | None, ...] | None:
        return self.rows[0] if self.rows else None
