"""Storage: SQLAlchemy models, the queries that own them, and Alembic migrations."""
