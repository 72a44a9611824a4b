"""Database: SQLAlchemy models, sessions, loading, Alembic migrations (SQLite by default, PostgreSQL via URL)."""
