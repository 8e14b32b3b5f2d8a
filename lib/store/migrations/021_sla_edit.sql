-- atende store, version 21: SLA calendars and policies changed and deleted through
-- the api (README "SLA: calendars, policies, clocks"). A delete marks the row
-- deleted_at and keeps it: a clock holds its own target and the ids of the policy
-- and calendar it started under (sla_clock), so running clocks, their pending
-- sla.check messages and the tickets' history never lose what they point at. A
-- deleted calendar or policy is gone for everything else: not listed, not read
-- through the api, never matched for a new ticket, a re-target or a next-response
-- round, and its name (a policy's priority and channel) free again. A live policy's
-- calendar is live: the store checks it under row locks (lib/store/store_sla_api.c).

ALTER TABLE sla_calendar ADD COLUMN deleted_at timestamptz;
ALTER TABLE sla_calendar DROP CONSTRAINT sla_calendar_name_key;
CREATE UNIQUE INDEX sla_calendar_live_name ON sla_calendar (name) WHERE deleted_at IS NULL;

ALTER TABLE sla_policy ADD COLUMN deleted_at timestamptz;
ALTER TABLE sla_policy DROP CONSTRAINT sla_policy_priority_channel_key;
CREATE UNIQUE INDEX sla_policy_live ON sla_policy (priority, channel) WHERE deleted_at IS NULL;
-- the calendar's live policies, found when it is deleted
CREATE INDEX sla_policy_calendar ON sla_policy (calendar_id) WHERE deleted_at IS NULL;
