"""Storage: every statement the gateway runs (plain SQL for SQLite and PostgreSQL), the tables'
models and their Alembic migrations, and the database handle."""
