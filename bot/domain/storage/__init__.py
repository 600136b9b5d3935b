"""Storage: one SQLAlchemy layer for every table (SQLite file by default, PostgreSQL when
DATABASE_URL names one), with Alembic migrations so upgrades keep the data."""
