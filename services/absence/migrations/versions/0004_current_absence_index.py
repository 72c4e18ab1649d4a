"""The home screen's box of current absence reads an index: a unit's absences that are open
or end today or later (to_date NULL or >= today), not every absence the unit ever had,
joined to every stay. With years of history a unit has ten past absences for each current
one, and the join from them read the whole stays table.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute("""
    CREATE INDEX absences_unit_last_day ON absence.absences (unit_id, to_date)
        WHERE removed_at IS NULL;
    """)
