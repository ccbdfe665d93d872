-- One request budget per platform account, shared by every worker on this database: the
-- account's timeline of request slots. A worker takes the next slice of it (a fraction of a
-- second of requests at the account's rate) by moving next_free forward in one statement, then
-- starts those requests locally, evenly spread over its slice, through its priority lanes.
create table concord_budget (
    account text primary key,
    next_free timestamptz not null,
    grants bigint not null default 0
);
