-- Web orders into the ERP exactly once, webhook deliveries seen, and what the audit found.

-- An intent is written and committed before the ERP create: one per shop order, whatever the
-- crashes, so a restart finds it and looks the order up in the ERP before creating anything.
alter table concord_intent
    add column shop_ref text,
    add column reason text,
    add column attempts integer not null default 0;

create unique index concord_intent_record on concord_intent (connection, kind, key);

-- Webhook deliveries already taken, by the shop's delivery id: a redelivery is acknowledged
-- without a second import.
create table concord_webhook_delivery (
    connection text not null references concord_connection (name) on delete cascade,
    delivery_id text not null,
    topic text not null,
    resource_id text,
    received_at timestamptz not null default now(),
    primary key (connection, delivery_id)
);

create index concord_webhook_delivery_age on concord_webhook_delivery (received_at);

-- What the order audit found: a shop order missing from the ERP, an ERP web order no shop
-- order explains, or one order twice in the ERP. Found again, a finding is refreshed; gone,
-- it is closed.
create table concord_audit_finding (
    id bigserial primary key,
    connection text not null references concord_connection (name) on delete cascade,
    kind text not null,
    key text not null,
    problem text not null
        check (problem in ('missing_in_erp', 'unknown_in_shop', 'duplicate_in_erp')),
    detail text not null,
    status text not null default 'open' check (status in ('open', 'closed')),
    first_seen timestamptz not null default now(),
    last_seen timestamptz not null default now(),
    closed_at timestamptz
);

create unique index concord_audit_finding_open
    on concord_audit_finding (connection, kind, key, problem)
    where status = 'open';
