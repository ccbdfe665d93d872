-- Named queries of the state store. Each starts with a "-- name: <name>" line and a one-line
-- description; engine/store/queries.py loads them once. Parameters are always bound, never formatted.
-- Batches arrive as parallel arrays for unnest(); JSON values in them come as text[] cast to
-- jsonb, because a jsonb[] parameter would read a JSON list as an array dimension.

-- name: migration_lock
-- Serialise migrations across processes (session-level: each file has its own transaction).
select pg_advisory_lock(hashtextextended('concord.migrate', 0));

-- name: migration_unlock
-- Release the migration lock taken by migration_lock.
select pg_advisory_unlock(hashtextextended('concord.migrate', 0));

-- name: migration_table_exists
-- Whether migrations were ever recorded in this database.
select to_regclass('concord_migration') is not null;

-- name: migration_create_table
-- The record of applied migrations, created before the first one runs.
create table if not exists concord_migration (
    version integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
);

-- name: migration_applied
-- Every applied migration, in order.
select version, name, checksum from concord_migration order by version;

-- name: migration_record
-- Record one migration as applied, in the transaction that applied it.
insert into concord_migration (version, name, checksum) values ($1, $2, $3);

-- name: ensure_connection
-- Register a connection by name; nothing happens when it exists.
insert into concord_connection (name) values ($1) on conflict (name) do nothing;

-- name: load_records
-- Base and links of one kind, joined: a record may have a link without a base and vice versa.
select coalesce(b.key, l.key) as key, b.fields, l.erp_ref, l.shop_ref, b.erp_seen, b.shop_seen
from (select key, fields, erp_seen, shop_seen from concord_base
      where connection = $1 and kind = $2) as b
full join (select key, erp_ref, shop_ref from concord_link where connection = $1 and kind = $2) as l
    on l.key = b.key;

-- name: load_records_for_keys
-- Base and links of some records of one kind (an incremental cycle needs only those it read).
select coalesce(b.key, l.key) as key, b.fields, l.erp_ref, l.shop_ref, b.erp_seen, b.shop_seen
from (select key, fields, erp_seen, shop_seen from concord_base
      where connection = $1 and kind = $2 and key = any($3::text[])) as b
full join (select key, erp_ref, shop_ref from concord_link
           where connection = $1 and kind = $2 and key = any($3::text[])) as l
    on l.key = b.key;

-- name: load_index
-- Links and seen digests of one kind, without the base's fields (a full cycle decodes only
-- the bases of records that changed).
select coalesce(b.key, l.key) as key, null::jsonb as fields, l.erp_ref, l.shop_ref,
    b.erp_seen, b.shop_seen
from (select key, erp_seen, shop_seen from concord_base where connection = $1 and kind = $2) as b
full join (select key, erp_ref, shop_ref from concord_link where connection = $1 and kind = $2) as l
    on l.key = b.key;

-- name: load_cursors
-- Where a job stopped reading, per side.
select side, value from concord_cursor where connection = $1 and job = $2;

-- name: load_conflicts
-- Live (open or resolved, not yet applied) conflicts of one kind.
select * from concord_conflict
where connection = $1 and kind = $2 and status in ('open', 'resolved');

-- name: insert_run
-- Record a finished run; returns its id.
insert into concord_run (connection, job, mode, started_at, finished_at, status, counts, error)
values ($1, $2, $3, $4, now(), $5, $6, $7)
returning id;

-- name: merge_base
-- Merge fields into the stored base of many records (jsonb ||), creating absent ones.
insert into concord_base (connection, kind, key, fields, updated_at)
select $1, $2, u.key, u.fields::jsonb, now()
from unnest($3::text[], $4::text[]) as u (key, fields)
on conflict (connection, kind, key) do update
set fields = concord_base.fields || excluded.fields, updated_at = excluded.updated_at;

-- name: set_seen
-- Set both sides' seen digests of many records that have a base.
update concord_base as b set erp_seen = u.erp_seen, shop_seen = u.shop_seen
from unnest($3::text[], $4::bytea[], $5::bytea[]) as u (key, erp_seen, shop_seen)
where b.connection = $1 and b.kind = $2 and b.key = u.key;

-- name: delete_base
-- Forget the base of many records.
delete from concord_base where connection = $1 and kind = $2 and key = any($3::text[]);

-- name: upsert_links
-- Set the refs of many records; a null ref keeps the stored one.
insert into concord_link (connection, kind, key, erp_ref, shop_ref, updated_at)
select $1, $2, u.key, u.erp_ref, u.shop_ref, now()
from unnest($3::text[], $4::text[], $5::text[]) as u (key, erp_ref, shop_ref)
on conflict (connection, kind, key) do update
set erp_ref = coalesce(excluded.erp_ref, concord_link.erp_ref),
    shop_ref = coalesce(excluded.shop_ref, concord_link.shop_ref),
    updated_at = excluded.updated_at;

-- name: close_conflicts
-- Close the live conflict of many (key, field) pairs as applied or dismissed.
update concord_conflict as c
set status = u.status, updated_at = now()
from unnest($3::text[], $4::text[], $5::text[]) as u (key, field, status)
where c.connection = $1 and c.kind = $2 and c.key = u.key and c.field = u.field
    and c.status in ('open', 'resolved');

-- name: upsert_conflicts
-- Open conflicts, or refresh the open one; a resolved one awaits its application untouched.
insert into concord_conflict (connection, kind, key, field, base, erp, shop, reason, suggested)
select $1, $2, u.key, u.field, u.base::jsonb, u.erp::jsonb, u.shop::jsonb, u.reason, u.suggested
from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
    as u (key, field, base, erp, shop, reason, suggested)
on conflict (connection, kind, key, field) where status in ('open', 'resolved') do update
set base = excluded.base, erp = excluded.erp, shop = excluded.shop, reason = excluded.reason,
    suggested = excluded.suggested, updated_at = now()
where concord_conflict.status = 'open';

-- name: clear_dead_letters
-- Clear the open dead letters of many (key, side) pairs: the write went through.
update concord_dead_letter as d
set status = 'cleared', cleared_at = now()
from unnest($3::text[], $4::text[]) as u (key, side)
where d.connection = $1 and d.kind = $2 and d.key = u.key and d.side = u.side
    and d.status = 'open';

-- name: upsert_dead_letters
-- Park writes that keep failing; a known one counts another attempt.
insert into concord_dead_letter (connection, kind, key, side, operation, reason)
select $1, $2, u.key, u.side, u.operation::jsonb, u.reason
from unnest($3::text[], $4::text[], $5::text[], $6::text[]) as u (key, side, operation, reason)
on conflict (connection, kind, key, side) where status = 'open' do update
set operation = excluded.operation, reason = excluded.reason,
    attempts = concord_dead_letter.attempts + 1, last_seen = now();

-- name: upsert_cursors
-- Move a job's cursors, per side.
insert into concord_cursor (connection, job, side, value, updated_at)
select $1, $2, u.side, u.value, now()
from unnest($3::text[], $4::text[]) as u (side, value)
on conflict (connection, job, side) do update
set value = excluded.value, updated_at = excluded.updated_at;

-- name: list_conflicts
-- Conflicts for review, filtered by connection, kind, status and a key/field search (ILIKE).
select * from concord_conflict
where ($1::text is null or connection = $1)
    and ($2::text is null or kind = $2)
    and ($3::text is null or status = $3)
    and ($4::text is null or key ilike $4 or field ilike $4)
order by id
limit $5;

-- name: get_conflict
-- One conflict by id.
select * from concord_conflict where id = $1;

-- name: resolve_conflict
-- Record a person's choice on an open conflict; no row when it is unknown or not open.
update concord_conflict
set status = 'resolved', resolution = $2, resolution_source = $3, resolved_by = $4,
    resolved_at = now(), updated_at = now()
where id = $1 and status = 'open'
returning *;

-- name: count_open_conflicts
-- How many conflicts wait for a person, for one connection or all.
select count(*) from concord_conflict
where status = 'open' and ($1::text is null or connection = $1);

-- name: list_runs
-- The most recent runs, newest first.
select * from concord_run
where ($1::text is null or connection = $1)
order by id desc
limit $2;

-- name: list_dead_letters
-- Dead letters by status, oldest first.
select * from concord_dead_letter
where ($1::text is null or connection = $1) and status = $2
order by id;

-- name: acquire_lease
-- Take or renew a job's lease; a row comes back only when this owner holds it.
insert into concord_lease (connection, job, owner, expires_at)
values ($1, $2, $3, now() + make_interval(secs => $4))
on conflict (connection, job) do update
set owner = excluded.owner, expires_at = excluded.expires_at
where concord_lease.owner = excluded.owner or concord_lease.expires_at <= now()
returning owner;

-- name: release_lease
-- Give a job's lease back, if this owner still holds it.
delete from concord_lease where connection = $1 and job = $2 and owner = $3;

-- name: keys_of_refs
-- The linked records some refs of each side belong to (records read without their natural key).
select key, erp_ref, shop_ref from concord_link
where connection = $1 and kind = $2 and (erp_ref = any($3::text[]) or shop_ref = any($4::text[]));
