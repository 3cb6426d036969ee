"""Rows written into the tables as an older migration left them (for upgrade tests): the models have
columns added since, so rows go in through the reflected tables, with every required column filled."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Connection, MetaData


class OldTables:
    def __init__(self, conn: Connection, blank_time: datetime) -> None:
        self.conn, self.blank_time = conn, blank_time.replace(tzinfo=None)
        self.tables = MetaData()
        self.tables.reflect(conn)

    def put(self, name: str, **values: object) -> None:
        """One row; required columns not given get a blank value of their type. Times are naive UTC."""
        table = self.tables.tables[name]
        values = {k: v.replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in values.items()}
        for column in table.columns:
            if column.name not in values and not column.nullable and column.server_default is None \
                    and not column.primary_key:
                values[column.name] = self._blank(column)
        self.conn.execute(table.insert().values(**values))

    def _blank(self, column: Column) -> object:
        try:
            kind = column.type.python_type
        except NotImplementedError:
            return ""
        return {str: "", int: 0, bool: False, bytes: b""}.get(kind, self.blank_time)
