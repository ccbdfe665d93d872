-- The books: journal entries booked from the shop's sales, payments and refunds.

-- One row per booked entry. Its number comes from the connection's sequence of the fiscal
-- year, taken in the same transaction as the entry, so numbers have no gap whatever crashes.
create table concord_accounting_entry (
    id bigserial primary key,
    connection text not null references concord_connection (name) on delete cascade,
    fiscal_year integer not null,
    number integer not null check (number > 0),
    key text not null,
    kind text not null,
    day date not null,
    validated date not null,
    entry jsonb not null,
    booked_at timestamptz not null default now(),
    unique (connection, fiscal_year, number),
    unique (connection, key)
);

create index concord_accounting_entry_day on concord_accounting_entry (connection, day, number);

-- Each shop document (sale:<order id>, payment:<order id>, credit:<refund id>, ...) is
-- booked by one entry only: the primary key refuses a second booking of it.
create table concord_accounting_document (
    connection text not null references concord_connection (name) on delete cascade,
    source text not null,
    entry_id bigint not null references concord_accounting_entry (id) on delete cascade,
    primary key (connection, source)
);

-- The last number and the latest day booked per connection and fiscal year. An entry is
-- never dated before the latest one (a late document keeps its own date as the piece's), so
-- the numbers of any period's entries are one unbroken run.
create table concord_accounting_sequence (
    connection text not null references concord_connection (name) on delete cascade,
    fiscal_year integer not null,
    last_number integer not null,
    last_day date not null,
    primary key (connection, fiscal_year)
);
