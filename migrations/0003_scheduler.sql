-- The continuous loop's state, shared by every worker on this database: when each scheduled job
-- is due next, and the claims workers took on jobs (the lease history, kept with the runs).

-- One row per scheduled slot: a job's usual run (slot = the job's name) or its periodic full
-- resync (slot = name + ':full'). Both slots of a job take the job's one lease, so they never
-- run at the same time.
create table concord_schedule (
    connection text not null references concord_connection (name) on delete cascade,
    slot text not null,
    job text not null,
    mode text not null check (mode in ('incremental', 'full')),
    schedule text not null,
    next_due timestamptz not null,
    updated_at timestamptz not null default now(),
    primary key (connection, slot)
);

create index concord_schedule_due on concord_schedule (next_due);

-- Every time a worker took a job: who, when, how long its lease was renewed, how it ended.
-- 'expired' marks a claim whose worker stopped renewing (killed) and whose job was taken over.
create table concord_claim (
    id bigserial primary key,
    connection text not null references concord_connection (name) on delete cascade,
    job text not null,
    slot text not null,
    owner text not null,
    due_at timestamptz not null,
    claimed_at timestamptz not null default now(),
    renewed_until timestamptz not null,
    finished_at timestamptz,
    outcome text not null default 'running'
        check (outcome in ('running', 'ok', 'failed', 'interrupted', 'lost', 'expired')),
    run_id bigint references concord_run (id) on delete set null,
    error text
);

create index concord_claim_job on concord_claim (connection, job, id desc);
create index concord_claim_claimed on concord_claim (claimed_at);

-- The claim a lease was taken for, so that a taker can close the expired one.
alter table concord_lease add column claim_id bigint references concord_claim (id) on delete set null;

-- Pruning run history by age.
create index concord_run_started on concord_run (started_at);
