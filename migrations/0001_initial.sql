-- Concord's state: what was last agreed per record (the base), how records are linked across
-- the two sides, where each reading job stopped, what needs a person (conflicts, dead letters)
-- and what ran. Every table is scoped by connection so that one database serves many.

create table concord_connection (
    name text primary key,
    created_at timestamptz not null default now()
);

create table concord_link (
    connection text not null references concord_connection (name) on delete cascade,
    kind text not null,
    key text not null,
    erp_ref text,
    shop_ref text,
    updated_at timestamptz not null default now(),
    primary key (connection, kind, key)
);

create table concord_base (
    connection text not null references concord_connection (name) on delete cascade,
    kind text not null,
    key text not null,
    fields jsonb not null,
    updated_at timestamptz not null default now(),
    primary key (connection, kind, key)
);

create table concord_cursor (
    connection text not null references concord_connection (name) on delete cascade,
    job text not null,
    side text not null check (side in ('erp', 'shop')),
    value text not null,
    updated_at timestamptz not null default now(),
    primary key (connection, job, side)
);

create table concord_conflict (
    id bigserial primary key,
    connection text not null references concord_connection (name) on delete cascade,
    kind text not null,
    key text not null,
    field text not null,
    base jsonb,
    erp jsonb,
    shop jsonb,
    reason text not null,
    -- The computed default, kept apart from the person's choice so an override never loses it.
    suggested text check (suggested in ('erp', 'shop')),
    status text not null default 'open'
        check (status in ('open', 'resolved', 'applied', 'dismissed')),
    resolution jsonb,
    resolution_source text check (resolution_source in ('erp', 'shop', 'value')),
    resolved_by text,
    resolved_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check (status <> 'resolved' or (resolution_source is not null and resolved_at is not null))
);

-- One live conflict per field: found again, it is refreshed rather than duplicated.
create unique index concord_conflict_live
    on concord_conflict (connection, kind, key, field)
    where status in ('open', 'resolved');

create index concord_conflict_status on concord_conflict (status, connection, id);

create table concord_dead_letter (
    id bigserial primary key,
    connection text not null references concord_connection (name) on delete cascade,
    kind text not null,
    key text not null,
    side text not null check (side in ('erp', 'shop')),
    operation jsonb not null,
    reason text not null,
    attempts integer not null default 1 check (attempts > 0),
    first_seen timestamptz not null default now(),
    last_seen timestamptz not null default now(),
    status text not null default 'open' check (status in ('open', 'cleared')),
    cleared_at timestamptz
);

create unique index concord_dead_letter_open
    on concord_dead_letter (connection, kind, key, side)
    where status = 'open';

create index concord_dead_letter_status on concord_dead_letter (status, connection, id);

create table concord_intent (
    id bigserial primary key,
    connection text not null references concord_connection (name) on delete cascade,
    kind text not null,
    key text not null,
    idempotency_key text not null unique,
    payload jsonb not null,
    state text not null default 'pending' check (state in ('pending', 'done', 'failed')),
    erp_ref text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index concord_intent_pending on concord_intent (connection, kind) where state = 'pending';

create table concord_run (
    id bigserial primary key,
    connection text not null references concord_connection (name) on delete cascade,
    job text not null,
    mode text not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status text not null,
    counts jsonb not null default '{}',
    error text
);

create index concord_run_recent on concord_run (connection, id desc);

create table concord_lease (
    connection text not null references concord_connection (name) on delete cascade,
    job text not null,
    owner text not null,
    expires_at timestamptz not null,
    primary key (connection, job)
);
