"""Alembic environment: runs migrations on the connection socialloop hands over.

socialloop applies migrations itself when a store is opened (``socialloop.store.migrate``), so
this environment expects ``config.attributes["connection"]``. For hand use (``alembic`` CLI),
``sqlalchemy.url`` in the config works too.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from socialloop.store.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
