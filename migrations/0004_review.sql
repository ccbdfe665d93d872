-- The review trail: what happened to each conflict (opened by a cycle, resolved by a person to
-- a value, applied or dismissed by a later cycle) and every retry a person asked for on a dead
-- letter, with who and when. Conflict events are written by a trigger, so whichever tool
-- resolves a conflict (the review page, the CLI, a hand-written UPDATE) leaves the same trail.

create table concord_review_event (
    id bigserial primary key,
    connection text not null references concord_connection (name) on delete cascade,
    at timestamptz not null default now(),
    -- A person's name for resolutions and retries; 'cycle' for what a cycle did.
    actor text not null,
    action text not null
        check (action in ('opened', 'resolved', 'applied', 'dismissed', 'retry')),
    kind text not null,
    key text not null,
    field text,
    side text check (side in ('erp', 'shop')),
    conflict_id bigint references concord_conflict (id) on delete cascade,
    dead_letter_id bigint references concord_dead_letter (id) on delete cascade,
    -- The values as they were at that moment, so the trail survives later refreshes.
    detail jsonb not null default '{}',
    check ((conflict_id is null) <> (dead_letter_id is null))
);

create index concord_review_event_conflict
    on concord_review_event (conflict_id, id) where conflict_id is not null;

create index concord_review_event_dead_letter
    on concord_review_event (dead_letter_id, id) where dead_letter_id is not null;

create index concord_review_event_recent on concord_review_event (connection, id desc);

create function concord_conflict_event() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into concord_review_event
            (connection, at, actor, action, kind, key, field, conflict_id, detail)
        values (
            new.connection, new.created_at, 'cycle', 'opened', new.kind, new.key, new.field,
            new.id,
            jsonb_build_object(
                'base', new.base, 'erp', new.erp, 'shop', new.shop,
                'reason', new.reason, 'suggested', new.suggested
            )
        );
    elsif new.status = 'resolved' and old.status is distinct from 'resolved' then
        insert into concord_review_event
            (connection, at, actor, action, kind, key, field, conflict_id, detail)
        values (
            new.connection, coalesce(new.resolved_at, now()), coalesce(new.resolved_by, '?'),
            'resolved', new.kind, new.key, new.field, new.id,
            jsonb_build_object(
                'source', new.resolution_source, 'value', new.resolution,
                'base', new.base, 'erp', new.erp, 'shop', new.shop
            )
        );
    elsif new.status in ('applied', 'dismissed') and old.status is distinct from new.status then
        insert into concord_review_event
            (connection, actor, action, kind, key, field, conflict_id, detail)
        values (
            new.connection, 'cycle', new.status, new.kind, new.key, new.field, new.id,
            jsonb_build_object('value', new.resolution)
        );
    end if;
    return null;
end;
$$;

create trigger concord_conflict_event
    after insert or update of status on concord_conflict
    for each row execute function concord_conflict_event();
