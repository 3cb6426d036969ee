"""Alembic environment: runs against the engine handed over by models.db.

On SQLite, batch mode rebuilds a table to change its constraints (copy, drop, rename). With
foreign keys enforced, dropping the old `matches` would cascade to every member and report, so
they are off while migrating (SQLite only honours that outside a transaction) and checked after.
"""
from alembic import context

from models import Base
from models.quiet import UNTRACKED, schema_changed

engine = context.config.attributes["engine"]
with engine.connect().execution_options(**{UNTRACKED: True}) as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # on the driver's connection: the engine's "begin" hook would open a transaction first
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        driver = connection.connection.dbapi_connection
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        driver.execute("PRAGMA foreign_keys=ON")
        if broken:
            raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")
schema_changed(engine)
