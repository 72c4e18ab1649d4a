"""A big city's data, written straight into the services' schemas after their migrations,
set-based (one statement per table, no row loop): units, customers with Swedish-looking
names and generated test personnummer, two orders per customer with their executions, the
absence service's stays and absences, and the mailboxes with a group mailbox of 10 000
messages. The ids are md5 of a name and a number, so a run is the same every time.

The spread, for N customers (100 000 by default): 200 units, of which `bench-big`
(Solgården) holds every twentieth customer (5 000): a real box of unconfirmed orders. Each
customer's current order is unconfirmed (10 %), ongoing (75 %), confirmed with a start ahead
(3 %), ended (7 %) or withdrawn (5 %); their earlier order, at another unit, ended years ago
(70 %) or was withdrawn. One ongoing stay in sixteen has a current absence, every other
stay one that is over. Bosam SÄF's group mailbox holds 10 000 messages (5 % unread, half
about a customer) beside 30 000 in the units' mailboxes and 1 000 it deleted.
"""

from __future__ import annotations

import asyncpg

BIG_UNIT = "bench-big"
UNITS = 200
MESSAGES = 10_000

FIRST_NAMES = (
    "Anna Maria Margareta Elisabeth Eva Birgitta Kristina Karin Ingrid Marianne Gunnel Ulla "
    "Britt Inger Barbro Gun Kerstin Maj Astrid Elsa Greta Signe Märta Dagny Gunvor Ingegerd "
    "Sonja Siv Lars Karl Erik Per Nils Jan Bengt Sven Gösta Rolf Lennart Åke Bo Göran Stig "
    "Olle Ingvar Gunnar Ove Hans Kjell Rune Arne Bertil Sture Tage Folke Harry Evert Holger "
    "Yngve"
).split()
LAST_NAMES = (
    "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson "
    "Pettersson Jonsson Jansson Hansson Bengtsson Jönsson Lindberg Jakobsson Magnusson "
    "Lindström Olofsson Lindqvist Lindgren Berg Axelsson Bergström Lundberg Lind Lundgren "
    "Lundqvist Mattsson Berglund Fredriksson Sandberg Henriksson Forsberg Sjöberg Ali Wallin "
    "Mohammed Engström Eklund Danielsson Lundin Håkansson Björk Bergman Gunnarsson Holm "
    "Wikström Samuelsson Isaksson Fransson Bergqvist Nyström Holmberg Arvidsson Löfgren "
    "Söderberg Nyberg Blomqvist Claesson Nordström Mårtensson Lundström Ahmed Viklund "
    "Björklund Eliasson Pålsson Hassan Berggren Sandström Lund Nordin Ström Åberg Hermansson "
    "Ekström Holmgren"
).split()

# a pseudo-random fraction in [0, 1) of a label and a number, the same in every run
_FRACTION = "((('x' || substr(md5({label} || {n}), 1, 8))::bit(32)::bigint) / 4294967296.0)"


def fraction(label: str, n: str) -> str:
    return _FRACTION.format(label=f"'{label}'", n=n)


# the check digit of the nine digits YYMMDDNNN (Luhn), as domain.luhn_check_digit
LUHN = """
CREATE FUNCTION pg_temp.luhn(digits text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT (10 - sum(p / 10 + p % 10)::int % 10) % 10
    FROM (SELECT substr(digits, i, 1)::int * (2 - (i - 1) % 2) AS p
          FROM generate_series(1, 9) i) d
$$"""

SEED = [
    # units: Solgården, the big one, and 199 others
    f"""INSERT INTO orders.units (id, name)
        SELECT '{BIG_UNIT}', 'Solgården (bench)'
        UNION ALL
        SELECT 'bench-unit-' || lpad(u::text, 3, '0'), 'Äldreboende ' || u || ' (bench)'
        FROM generate_series(1, {UNITS - 1}) u""",
    # customers: born 1925-1945, day n % 7670, serials 970-999 (unique up to 230 000),
    # names skewed towards the common ones (as they are), a second given name for a third
    f"""INSERT INTO orders.customers (id, personnummer, first_name, last_name)
        SELECT md5('customer-' || n)::uuid,
               b || s || pg_temp.luhn(substr(b, 3) || s),
               fn[1 + floor({fraction("f", "n")} ^ 1.5 * array_length(fn, 1))::int]
                 || CASE WHEN n % 3 = 0
                         THEN ' ' || fn[1 + floor({fraction("g", "n")} * array_length(fn, 1))::int]
                         ELSE '' END,
               ln[1 + floor({fraction("l", "n")} ^ 2 * array_length(ln, 1))::int]
        FROM generate_series(1, $1) n,
             LATERAL (SELECT to_char(date '1925-01-01' + n % 7670, 'YYYYMMDD') AS b,
                             (970 + n / 7670)::text AS s) p,
             (SELECT $2::text[] AS fn, $3::text[] AS ln) names""",
    # each customer's current order (k = 1) at their unit, and an earlier one (k = 2)
    # elsewhere; the status from a fraction h of the customer
    f"""INSERT INTO orders.orders (id, customer_id, unit_id, service, decision_date,
                                   planned_start_date, text, status, withdrawn_reason,
                                   created_by, created_at, updated_at)
        SELECT md5('order-' || n || '-' || k)::uuid, md5('customer-' || n)::uuid,
               CASE WHEN k = 1 AND n % 20 = 0 THEN '{BIG_UNIT}'
                    ELSE 'bench-unit-' || lpad((1 + (n * k) % {UNITS - 1})::text, 3, '0') END,
               'sol_boende', decided, NULL,
               'Särskilt boende enligt beslut.', status,
               CASE WHEN status = 'withdrawn' THEN 'Brukaren tackade nej' END,
               'bench-caseworker', decided + time '09:00' + (n % 480) * interval '1 minute',
               decided + time '09:00'
        FROM generate_series(1, $1) n, generate_series(1, 2) k,
             LATERAL (SELECT {fraction("h", "n")} AS h) f,
             LATERAL (SELECT CASE
                 WHEN k = 2 THEN CASE WHEN h < 0.7 THEN 'ended' ELSE 'withdrawn' END
                 WHEN h < 0.10 THEN 'unconfirmed' WHEN h < 0.85 THEN 'ongoing'
                 WHEN h < 0.88 THEN 'confirmed' WHEN h < 0.95 THEN 'ended'
                 ELSE 'withdrawn' END AS status) st,
             LATERAL (SELECT CASE
                 WHEN k = 2 THEN current_date - 1500 - n % 1000
                 WHEN status = 'unconfirmed' THEN current_date - n % 120
                 ELSE current_date - 60 - n % 2000 END AS decided) d""",
    # an execution for each order that was confirmed; an ended one ended after it started
    """INSERT INTO orders.executions (id, order_id, customer_id, unit_id, service, start_date,
                                      end_date, end_reason, status, confirmed_by, ended_by)
       SELECT md5('execution-' || o.id)::uuid, o.id, o.customer_id, o.unit_id, o.service,
              started,
              CASE WHEN o.status = 'ended' THEN GREATEST(started,
                   CASE WHEN o.decision_date < current_date - 1500 THEN o.decision_date + 400
                        ELSE current_date - 1 - d % 400 END) END,
              CASE WHEN o.status = 'ended' THEN 'moved_other_housing' END,
              o.status, 'bench-provider',
              CASE WHEN o.status = 'ended' THEN 'bench-provider' END
       FROM orders.orders o,
            LATERAL (SELECT o.decision_date - date '2000-01-01' AS d) days,
            LATERAL (SELECT CASE WHEN o.status = 'confirmed' THEN current_date + 1 + d % 30
                                 ELSE o.decision_date + 20 END AS started) s
       WHERE o.status IN ('confirmed', 'ongoing', 'ended')""",
    # the absence service's read model of stays, as order.confirmed / execution.ended fill it
    """INSERT INTO absence.stays (execution_id, order_id, customer_id, unit_id, start_date,
                                  end_date)
       SELECT id, order_id, customer_id, unit_id, start_date, end_date FROM orders.executions""",
    # absences: a current one for one ongoing stay in sixteen (open, or ending ahead), and
    # one that is over for every other stay
    f"""INSERT INTO absence.absences (id, customer_id, unit_id, order_id, execution_id, reason,
                                      description, from_date, to_date, registered_by,
                                      registered_at, changed_at)
        SELECT md5('absence-' || s.execution_id || '-' || kind)::uuid, s.customer_id,
               s.unit_id, s.order_id, s.execution_id,
               (ARRAY['hospital', 'short_term_care', 'relatives', 'vacation', 'other'])
                   [1 + floor({fraction("r", "s.execution_id")} * 5)::int],
               'Frånvaro', from_date, to_date, 'bench-provider', from_date, from_date
        FROM absence.stays s
        CROSS JOIN LATERAL (SELECT {fraction("a", "s.execution_id")} AS a) f
        CROSS JOIN LATERAL (
            SELECT 'current' AS kind, current_date - floor(a * 320)::int % 20 AS from_date,
                   CASE WHEN a * 16 < 0.5 THEN NULL
                        ELSE current_date + floor(a * 160)::int % 10 END AS to_date
            WHERE s.end_date IS NULL AND s.start_date < current_date - 20 AND a < 1.0 / 16
            UNION ALL
            SELECT 'past', s.start_date + 1, s.start_date + 3 + floor(a * 10)::int
            WHERE a >= 0.5 AND s.start_date + 13 < COALESCE(s.end_date, current_date - 21)
        ) absent""",
    # messaging: the units' mailboxes, the people who wrote, and the messages
    """INSERT INTO messaging.units (id, name) SELECT id, name FROM orders.units""",
    f"""INSERT INTO messaging.messages (id, sender_sub, sender_name, subject, body, kind,
                                        customer_id, sent_at, sender_deleted_at)
        SELECT md5('message-' || m)::uuid, 'bench-provider-' || m % 300,
               'Personal ' || m % 300, 'Ang. boendet ' || m, 'Hej! Se bifogad plan.',
               'message',
               CASE WHEN m % 2 = 0
                    THEN md5('customer-' || (1 + m * 7 % $1))::uuid END,
               now() - (m * interval '13 minutes'),
               CASE WHEN m % 3 = 0 THEN now() END
        FROM generate_series(1, {MESSAGES * 4 + 1000}) m""",
    # the first 11 000 to Bosam SÄF (1 000 of them deleted there), the rest to the units
    f"""INSERT INTO messaging.deliveries (message_id, mailbox, mailbox_name, position,
                                          sent_at, read_at, deleted_at)
        SELECT md5('message-' || m)::uuid,
               CASE WHEN m <= {MESSAGES + 1000} THEN 'group:bosam'
                    ELSE 'unit:bench-unit-' || lpad((1 + m % {UNITS - 1})::text, 3, '0') END,
               CASE WHEN m <= {MESSAGES + 1000} THEN 'Bosam SÄF' ELSE 'Äldreboende' END,
               1, now() - (m * interval '13 minutes'),
               CASE WHEN m % 20 <> 7 THEN now() - (m * interval '13 minutes') END,
               CASE WHEN m % 11 = 5 THEN now() END
        FROM generate_series(1, {MESSAGES * 4 + 1000}) m""",
]


async def seed(conn: asyncpg.Connection, *, customers: int) -> dict[str, int]:
    """Fill the schemas, ANALYZE, and say how many rows of each kind there are."""
    async with conn.transaction():
        await conn.execute(LUHN)
        for statement in SEED:
            wanted = [customers, FIRST_NAMES, LAST_NAMES]
            used = max((n for n in (1, 2, 3) if f"${n}" in statement), default=0)
            await conn.execute(statement, *wanted[:used])
    await conn.execute("VACUUM ANALYZE")
    counts = {}
    for table in (
        "orders.customers",
        "orders.orders",
        "orders.executions",
        "absence.absences",
        "messaging.messages",
    ):
        counts[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
    counts["group:bosam messages"] = await conn.fetchval(
        "SELECT count(*) FROM messaging.deliveries WHERE mailbox = 'group:bosam'"
        " AND deleted_at IS NULL"
    )
    return counts
