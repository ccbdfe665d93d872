-- Named queries of the order import, the order audit and webhook deliveries.
-- Loaded with every other .sql file of engine/store/sql by engine/store/queries.py.

-- name: intent_begin
-- Record (or re-arm) the intent to import one record; a done intent is left untouched.
insert into concord_intent
    (connection, kind, key, idempotency_key, payload, shop_ref, state, attempts)
values ($1, $2, $3, $4, $5, $6, 'pending', 1)
on conflict (connection, kind, key) do update
set state = 'pending', payload = excluded.payload, shop_ref = excluded.shop_ref,
    reason = null, attempts = concord_intent.attempts + 1, updated_at = now()
where concord_intent.state <> 'done'
returning state, erp_ref;

-- name: intent_get
-- One intent by record key.
select key, state, erp_ref, shop_ref, reason, attempts from concord_intent
where connection = $1 and kind = $2 and key = $3;

-- name: intent_done
-- The record exists in the ERP as erp_ref: the intent is fulfilled.
update concord_intent
set state = 'done', erp_ref = $4, reason = null, updated_at = now()
where connection = $1 and kind = $2 and key = $3;

-- name: intent_failed
-- The ERP refused the record for a reason that needs a person; nothing was created.
update concord_intent
set state = 'failed', reason = $4, updated_at = now()
where connection = $1 and kind = $2 and key = $3 and state = 'pending';

-- name: intents_pending
-- Intents left pending by a run that stopped between writing them and settling them.
select key, shop_ref, payload from concord_intent
where connection = $1 and kind = $2 and state = 'pending'
order by id;

-- name: intents_of_keys
-- The intents of some records, whatever their state, with the ERP reference each creates.
select key, state, erp_ref, shop_ref, payload ->> 'reference' as reference from concord_intent
where connection = $1 and kind = $2 and key = any($3::text[]);

-- name: intents_done_since
-- Records imported (intent done) and touched since a moment, oldest first.
select key, shop_ref, erp_ref from concord_intent
where connection = $1 and kind = $2 and state = 'done' and updated_at >= $3
order by id;

-- name: intents_count
-- How many intents are in each state, for one connection and kind.
select state, count(*)::int as count from concord_intent
where connection = $1 and kind = $2
group by state;

-- name: webhook_delivery_claim
-- Take a webhook delivery once: a row comes back only the first time its id is seen.
insert into concord_webhook_delivery (connection, delivery_id, topic, resource_id)
values ($1, $2, $3, $4)
on conflict (connection, delivery_id) do nothing
returning delivery_id;

-- name: webhook_delivery_release
-- Forget a delivery whose handling failed, so the shop's redelivery is taken again.
delete from concord_webhook_delivery where connection = $1 and delivery_id = $2;

-- name: webhook_deliveries_prune
-- Forget deliveries older than some days: the shop stops redelivering long before.
delete from concord_webhook_delivery where received_at < now() - make_interval(days => $1);

-- name: findings_upsert
-- Open audit findings, or refresh the open ones found again.
insert into concord_audit_finding (connection, kind, key, problem, detail)
select $1, $2, u.key, u.problem, u.detail
from unnest($3::text[], $4::text[], $5::text[]) as u (key, problem, detail)
on conflict (connection, kind, key, problem) where status = 'open' do update
set detail = excluded.detail, last_seen = now();

-- name: findings_close_others
-- Close the open findings of a kind that this audit did not find again.
update concord_audit_finding as f
set status = 'closed', closed_at = now()
where f.connection = $1 and f.kind = $2 and f.status = 'open'
    and not exists (
        select 1 from unnest($3::text[], $4::text[]) as u (key, problem)
        where u.key = f.key and u.problem = f.problem
    );

-- name: findings_list
-- Open audit findings, for one connection or all, oldest first.
select connection, kind, key, problem, detail, first_seen, last_seen
from concord_audit_finding
where status = 'open' and ($1::text is null or connection = $1)
order by id;

-- name: order_try_lock
-- Take the session lock on importing one order; false when another worker holds it.
select pg_try_advisory_lock(hashtextextended($1::text, 0));

-- name: order_unlock
-- Give back the session lock on importing one order.
select pg_advisory_unlock(hashtextextended($1::text, 0));
