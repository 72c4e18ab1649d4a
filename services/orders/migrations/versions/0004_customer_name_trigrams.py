"""Search by a part of a name reads an index: trigram (pg_trgm) GIN indexes on the two ways
GET /customers?q= and GET /orders?q= match a name, "first last" and "last first", so an
ILIKE '%part%' (a part in the middle of a name too) is a bitmap scan, not a scan of every
customer. Personnummer and customer number are found through their unique indexes, in the
same bitmap.

pg_trgm ships with PostgreSQL (the contrib modules: Debian's postgresql-15 package, the
official images, CloudNativePG's and every managed service) and is a trusted extension, so
the owner of the database may create it without being a superuser.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute("""
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX customers_name_trgm ON orders.customers
        USING gin ((first_name || ' ' || last_name) gin_trgm_ops);
    CREATE INDEX customers_name_reversed_trgm ON orders.customers
        USING gin ((last_name || ' ' || first_name) gin_trgm_ops);
    """)
