"""Schema migrations per service: Alembic revisions of plain SQL, one schema each."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy import pool as sa_pool

SERVICES_DIR = Path(__file__).resolve().parent.parent


def alembic_config(service: str, dsn: str) -> Config:
    """The Alembic configuration of one service's migrations folder and schema."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.attributes["schema"] = service
    cfg.attributes["dsn"] = dsn
    return cfg


def upgrade(service: str, dsn: str, revision: str = "head") -> None:
    """Bring one service's schema up to `revision` (blocking; call from a thread in a loop)."""
    command.upgrade(alembic_config(service, dsn), revision)


async def upgrade_all(services: list[str], dsn: str) -> None:
    """Migrate each service's schema in turn, off the event loop."""
    for service in services:
        await asyncio.to_thread(upgrade, service, dsn)


def run_env() -> None:
    """Body of every service's migrations/env.py: run the revisions against its schema."""
    from alembic import context

    cfg = context.config
    schema = cfg.attributes["schema"]
    # psycopg runs a revision's plain SQL with several statements in one execute
    url = cfg.attributes["dsn"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, poolclass=sa_pool.NullPool)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection, version_table_schema=schema, transactional_ddl=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
