-- Named queries of the review and status pages (web/): conflicts with their filters, bulk
-- resolutions that refuse a conflict changed since the reviewer saw it, the review trail
-- (migrations/0004_review.sql) and retries of dead letters.

-- name: review_conflicts
-- Conflicts for review by connection, kind, field and status, searched in keys, fields and values; with the number matching.
select count(*) over () as matching,
    c.id, c.connection, c.kind, c.key, c.field, c.base, c.erp, c.shop, c.reason, c.suggested,
    c.status, c.resolution, c.resolution_source, c.resolved_by, c.resolved_at, c.created_at,
    c.updated_at
from concord_conflict as c
where ($1::text is null or c.connection = $1)
    and ($2::text is null or c.kind = $2)
    and ($3::text is null or c.field = $3)
    and ($4::text is null or c.status = $4)
    and (
        $5::text is null or c.key ilike $5 or c.field ilike $5
        or c.erp::text ilike $5 or c.shop::text ilike $5 or c.base::text ilike $5
    )
order by c.connection, c.kind, c.key, c.field, c.id
limit $6;

-- name: review_facets
-- Open conflicts counted by connection, kind and field: the filters' choices and the counts.
select connection, kind, field, count(*) as open
from concord_conflict
where status = 'open'
group by connection, kind, field
order by connection, kind, field;

-- name: review_resolve_side
-- Resolve open conflicts to their ERP value, shop value or computed suggestion; one unchanged since seen (null: not checked).
update concord_conflict as c
set status = 'resolved',
    resolution = case
        when $3::text = 'erp' or ($3::text = 'suggested' and c.suggested = 'erp') then c.erp
        else c.shop
    end,
    resolution_source = case when $3::text = 'suggested' then c.suggested else $3::text end,
    resolved_by = $4, resolved_at = now(), updated_at = now()
from unnest($1::bigint[], $2::timestamptz[]) as u (id, seen)
where c.id = u.id and c.status = 'open'
    and (u.seen is null or c.updated_at = u.seen)
    and ($3::text <> 'suggested' or c.suggested is not null)
returning c.id;

-- name: review_resolve_value
-- Resolve open conflicts to a value a person typed; only those unchanged since seen (null: not checked).
update concord_conflict as c
set status = 'resolved', resolution = $3::jsonb, resolution_source = 'value',
    resolved_by = $4, resolved_at = now(), updated_at = now()
from unnest($1::bigint[], $2::timestamptz[]) as u (id, seen)
where c.id = u.id and c.status = 'open' and (u.seen is null or c.updated_at = u.seen)
returning c.id;

-- name: review_conflict_history
-- The review trail of one conflict, oldest first.
select * from concord_review_event where conflict_id = $1 order by id;

-- name: review_recent_events
-- The latest resolutions, applications and retries, newest first.
select * from concord_review_event
where action <> 'opened' and ($1::text is null or connection = $1)
order by id desc
limit $2;

-- name: review_request_retry
-- Mark open dead letters for retry (who, when, after how many attempts); returns the ids marked.
insert into concord_review_event (connection, actor, action, kind, key, side, dead_letter_id, detail)
select d.connection, $2, 'retry', d.kind, d.key, d.side, d.id,
    jsonb_build_object('attempts', d.attempts, 'reason', d.reason)
from concord_dead_letter as d
where d.id = any($1::bigint[]) and d.status = 'open'
returning dead_letter_id;

-- name: review_dead_letters
-- Open dead letters, oldest first, each with the last retry a person asked for.
select d.id, d.connection, d.kind, d.key, d.side, d.reason, d.attempts, d.first_seen,
    d.last_seen, r.actor as retry_by, r.at as retry_at
from concord_dead_letter as d
left join lateral (
    select e.actor, e.at from concord_review_event as e
    where e.dead_letter_id = d.id and e.action = 'retry'
    order by e.id desc
    limit 1
) as r on true
where d.status = 'open' and ($1::text is null or d.connection = $1)
order by d.id
limit $2;

-- name: review_last_runs
-- The latest run of every job that ever ran.
select distinct on (connection, job)
    id, connection, job, mode, started_at, finished_at, status, counts, error
from concord_run
order by connection, job, id desc;

-- name: review_count_dead_letters
-- How many dead letters are open, for the navigation bar.
select count(*) from concord_dead_letter where status = 'open';

-- name: review_run_seconds
-- How many finished runs of each job took how long, over the kept run history: a run's bucket
-- is how many of the ascending bounds ($1, seconds) lie below its duration, so it counts under
-- the first bound it does not exceed (the bounds' length: above them all).
select connection, job, bucket, count(*) as runs, sum(seconds)::float8 as seconds
from (
    select connection, job, seconds,
        (select count(*) from unnest($1::float8[]) as bound where bound < seconds)::int as bucket
    from (
        select connection, job,
            extract(epoch from finished_at - started_at)::float8 as seconds
        from concord_run
        where finished_at is not null
    ) as finished
) as bucketed
group by connection, job, bucket
order by connection, job, bucket;
