"""The fee administrators' indication of absence (manual 5.2, 5.3): what changed last and
when, and which revision a fee administrator marked handled.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("""
    ALTER TABLE absence.absences
        -- the last change and when it was made: what the fee administrators have to handle
        ADD COLUMN last_change text NOT NULL DEFAULT 'registered'
            CHECK (last_change IN ('registered', 'ended', 'changed', 'removed')),
        ADD COLUMN changed_at timestamptz,
        -- the last day before the last change of it ("changed" from what)
        ADD COLUMN previous_to_date date,
        -- the revision a fee administrator marked handled; a later change makes it unhandled
        ADD COLUMN handled_revision integer,
        ADD COLUMN handled_by text,
        ADD COLUMN handled_at timestamptz;
    UPDATE absence.absences
       SET last_change = CASE WHEN removed_at IS NOT NULL THEN 'removed'
                              WHEN updated_at IS NOT NULL THEN 'changed'
                              ELSE 'registered' END,
           changed_at = COALESCE(removed_at, updated_at, registered_at);
    ALTER TABLE absence.absences
        ALTER COLUMN changed_at SET NOT NULL,
        ALTER COLUMN changed_at SET DEFAULT now();
    CREATE INDEX absences_unhandled ON absence.absences (changed_at)
        WHERE handled_revision IS DISTINCT FROM revision;
    """)
