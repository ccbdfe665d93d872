-- Named queries of the books (engine/accounting). Loaded by engine/store/queries.py.

-- name: accounting_next_number
-- Take the next number of a fiscal year's sequence and the day to book on (never before
-- the latest day booked); the row stays locked until the booking transaction ends.
insert into concord_accounting_sequence as s (connection, fiscal_year, last_number, last_day)
values ($1, $2, 1, $3)
on conflict (connection, fiscal_year) do update
set last_number = s.last_number + 1, last_day = greatest(s.last_day, excluded.last_day)
returning last_number, last_day;

-- name: accounting_insert_entry
-- Book one entry under its number; returns its id.
insert into concord_accounting_entry
    (connection, fiscal_year, number, key, kind, day, validated, entry)
values ($1, $2, $3, $4, $5, $6, $7, $8)
returning id;

-- name: accounting_insert_documents
-- The shop documents an entry books; a document booked already violates the primary key.
insert into concord_accounting_document (connection, source, entry_id)
select $1, u.source, $3 from unnest($2::text[]) as u (source);

-- name: accounting_booked_of
-- Which of these shop documents are booked already.
select source from concord_accounting_document
where connection = $1 and source = any($2::text[]);

-- name: accounting_entries_between
-- The entries dated from one day to another (inclusive), in number order.
select fiscal_year, number, validated, entry from concord_accounting_entry
where connection = $1 and day >= $2 and day <= $3
order by fiscal_year, number;

-- name: accounting_counts
-- How many entries are booked per kind, for one connection.
select kind, count(*)::int as count from concord_accounting_entry
where connection = $1
group by kind;
