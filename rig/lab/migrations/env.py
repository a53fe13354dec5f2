"""alembic's entry for the results database: run the migrations on the connection that
`rig.lab.db` hands over (it holds the lock that keeps two stations from migrating at
once), never on a URL of its own."""

from __future__ import annotations

from alembic import context

from rig.lab.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
