-- Named queries of the continuous loop (engine/loop/leases.py): schedules, claims and leases, status,
-- retention. Format as in queries.sql.

-- name: schedule_sync
-- Register a worker's slots; a slot whose schedule changed becomes due no later than it says.
insert into concord_schedule (connection, slot, job, mode, schedule, next_due)
select u.connection, u.slot, u.job, u.mode, u.schedule,
    now() + make_interval(secs => u.first_after)
from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[])
    as u (connection, slot, job, mode, schedule, first_after)
on conflict (connection, slot) do update
set job = excluded.job, mode = excluded.mode, schedule = excluded.schedule,
    next_due = case when concord_schedule.schedule = excluded.schedule
        then concord_schedule.next_due
        else least(concord_schedule.next_due, excluded.next_due) end,
    updated_at = now()
where (concord_schedule.job, concord_schedule.mode, concord_schedule.schedule)
    is distinct from (excluded.job, excluded.mode, excluded.schedule);

-- name: schedule_due
-- Due slots of this worker whose job no live lease holds, oldest first, locked for this claim.
select s.connection, s.slot, s.job, s.mode, s.schedule, s.next_due, now() as now
from concord_schedule as s
where s.next_due <= now()
    and (s.connection, s.slot) in (select * from unnest($1::text[], $2::text[]))
    and not exists (
        select 1 from concord_lease as l
        where l.connection = s.connection and l.job = s.job and l.expires_at > now()
    )
order by s.next_due, s.connection, s.slot
limit $3
for update of s skip locked;

-- name: schedule_wait
-- Seconds until this worker's next slot is due (negative: overdue), ignoring leased jobs.
select extract(epoch from min(s.next_due) - now())::float8
from concord_schedule as s
where (s.connection, s.slot) in (select * from unnest($1::text[], $2::text[]))
    and not exists (
        select 1 from concord_lease as l
        where l.connection = s.connection and l.job = s.job and l.expires_at > now()
    );

-- name: schedule_set_next
-- Move a slot's next due time.
update concord_schedule set next_due = $3, updated_at = now()
where connection = $1 and slot = $2;

-- name: lease_lock
-- The current lease of a job, locked until this claim commits; live is false once it expired.
select owner, claim_id, expires_at > now() as live
from concord_lease where connection = $1 and job = $2
for update;

-- name: claim_insert
-- Record a claim on a job; its lease runs for $6 seconds from now.
insert into concord_claim (connection, job, slot, owner, due_at, renewed_until)
values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
returning id, claimed_at;

-- name: lease_take
-- Take a job's lease for a claim, unless a live lease holds it; a row only when taken.
insert into concord_lease (connection, job, owner, expires_at, claim_id)
values ($1, $2, $3, now() + make_interval(secs => $4), $5)
on conflict (connection, job) do update
set owner = excluded.owner, expires_at = excluded.expires_at, claim_id = excluded.claim_id
where concord_lease.expires_at <= now()
returning owner;

-- name: claim_expire
-- Close the claim of a worker that stopped renewing its lease (its job is being taken over).
update concord_claim set outcome = 'expired', finished_at = now()
where id = $1 and outcome = 'running';

-- name: lease_renew
-- Extend a claim's lease by $4 seconds from now; a row only while the claim still holds it.
with renewed as (
    update concord_lease set expires_at = now() + make_interval(secs => $4)
    where connection = $1 and job = $2 and claim_id = $3
    returning expires_at
)
update concord_claim set renewed_until = renewed.expires_at
from renewed
where concord_claim.id = $3 and concord_claim.outcome = 'running'
returning concord_claim.renewed_until;

-- name: claim_finish
-- Close a running claim with its outcome; no row when it was taken over meanwhile.
update concord_claim
set finished_at = now(), outcome = $2, run_id = $3, error = $4
where id = $1 and outcome = 'running'
returning now() as now;

-- name: lease_drop
-- Give back the lease a claim holds.
delete from concord_lease where connection = $1 and job = $2 and claim_id = $3;

-- name: claim_history
-- Claims on the jobs of a connection, in order (the lease history).
select id, connection, job, slot, owner, due_at, claimed_at, renewed_until, finished_at, outcome,
    run_id, error
from concord_claim
where ($1::text is null or connection = $1)
order by id;

-- name: status_jobs
-- Per job: the last run, the last successful run, failed runs kept, records written, the live
-- lease and the next due time of its usual slot.
select j.connection, j.job, s.schedule, s.next_due,
    r.id as run_id, r.mode, r.status, r.started_at, r.finished_at, r.counts, r.error,
    ok.finished_at as last_ok_at,
    (select count(*) from concord_run as f
        where f.connection = j.connection and f.job = j.job and f.status = 'failed') as failed_runs,
    (select coalesce(sum(coalesce((w.counts ->> 'writes_erp')::bigint, 0)
        + coalesce((w.counts ->> 'writes_shop')::bigint, 0)), 0)
        from concord_run as w where w.connection = j.connection and w.job = j.job)::bigint
        as records_written,
    l.owner as running_on, now() as now
from (
    select connection, job from concord_schedule where mode = 'incremental'
    union
    select connection, job from concord_run where mode <> 'dry-run'
) as j
left join concord_schedule as s
    on s.connection = j.connection and s.slot = j.job
left join lateral (
    select * from concord_run as x where x.connection = j.connection and x.job = j.job
    order by x.id desc limit 1
) as r on true
left join lateral (
    select x.finished_at from concord_run as x
    where x.connection = j.connection and x.job = j.job and x.status in ('ok', 'partial')
    order by x.id desc limit 1
) as ok on true
left join concord_lease as l
    on l.connection = j.connection and l.job = j.job and l.expires_at > now()
where $1::text is null or j.connection = $1
order by j.connection, j.job;

-- name: status_connections
-- Per connection: pending order intents, open dead letters and open conflicts.
select c.name as connection,
    (select count(*) from concord_intent as i
        where i.connection = c.name and i.state = 'pending') as pending_intents,
    (select count(*) from concord_dead_letter as d
        where d.connection = c.name and d.status = 'open') as dead_letters,
    (select count(*) from concord_conflict as x
        where x.connection = c.name and x.status = 'open') as open_conflicts
from concord_connection as c
where $1::text is null or c.name = $1
order by c.name;

-- name: runs_prune
-- Forget runs older than $1 days, keeping each job's last run and last success.
delete from concord_run
where started_at < now() - make_interval(days => $1)
    and id not in (
        select max(id) from concord_run group by connection, job
        union
        select max(id) from concord_run where status in ('ok', 'partial') group by connection, job
    );

-- name: claims_prune
-- Forget finished claims older than $1 days.
delete from concord_claim
where claimed_at < now() - make_interval(days => $1) and outcome <> 'running';

-- name: fence_check
-- The claim holding a job's lease, the row locked until the calling commit ends (fencing).
select claim_id from concord_lease where connection = $1 and job = $2
for update;
