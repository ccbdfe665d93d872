-- What each side answered when it last agreed with the base: a digest of the record it was
-- read as, per side. A full cycle that reads the same digest again knows the record still
-- equals its base without decoding either (most of a catalogue, most of the time). Null: not
-- known to agree (never read since the base moved, or written to since).
alter table concord_base add column erp_seen bytea, add column shop_seen bytea;
