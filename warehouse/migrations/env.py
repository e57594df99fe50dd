"""Alembic environment: always run programmatically by serasan.warehouse.upgrade."""

from alembic import context

from serasan.warehouse.names import has_schemas

connection = context.config.attributes["connection"]
dialect = connection.dialect.name
context.configure(
    connection=connection,
    version_table="alembic_version" if has_schemas(dialect) else "meta__alembic_version",
    version_table_schema="meta" if has_schemas(dialect) else None,
    render_as_batch=dialect == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
