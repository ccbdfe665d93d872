-- Named queries of the shared request budgets (engine/loop/budget_grants.py). Format as in queries.sql.

-- name: budget_grant
-- Take the next $2 seconds of an account's request timeline: seconds from now to their start.
insert into concord_budget as b (account, next_free, grants)
values ($1, clock_timestamp() + make_interval(secs => $2), 1)
on conflict (account) do update
set next_free = greatest(b.next_free, clock_timestamp()) + make_interval(secs => $2),
    grants = b.grants + 1
returning extract(epoch from b.next_free - clock_timestamp())::float8 - $2;
