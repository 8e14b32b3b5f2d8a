-- atende store, version 17: SLA calendars, policies and clocks (issue 15, design
-- "The desk"). A calendar is a time zone, windows per weekday (local minutes
-- [start, end), several a day) and holidays; a policy gives a priority and a
-- channel (or any) its first-response, next-response and resolution targets,
-- each in business time (on the calendar) or wall time. Each ticket holds one
-- clock per metric; warnings and breaches are delayed sla.check messages that
-- name the clock's version. SQL in lib/store/store_sla.c; route's side in
-- workers/route/sla*.c; the arithmetic in lib/core/calendar.c.

CREATE TABLE sla_calendar (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL UNIQUE CHECK (length (name) BETWEEN 1 AND 80),
  timezone   text NOT NULL,
  -- [{"weekday": 0..6 (0 Sunday), "start": minutes, "end": minutes}, ...]
  windows    jsonb NOT NULL CHECK (jsonb_typeof (windows) = 'array'),
  created_at timestamptz NOT NULL DEFAULT now ()
);

CREATE TABLE sla_holiday (
  calendar_id bigint NOT NULL REFERENCES sla_calendar (id) ON DELETE CASCADE,
  day         date NOT NULL,
  name        text NOT NULL DEFAULT '',
  PRIMARY KEY (calendar_id, day)
);

-- target_s NULL: the policy sets no target for that metric.
CREATE TABLE sla_policy (
  id                      bigserial PRIMARY KEY,
  name                    text NOT NULL CHECK (length (name) BETWEEN 1 AND 80),
  priority                text NOT NULL CHECK (priority IN ('normal', 'high')),
  channel                 text NOT NULL DEFAULT 'any',
  calendar_id             bigint NOT NULL REFERENCES sla_calendar (id),
  first_response_s        int CHECK (first_response_s > 0),
  first_response_business boolean NOT NULL DEFAULT true,
  next_response_s         int CHECK (next_response_s > 0),
  next_response_business  boolean NOT NULL DEFAULT true,
  resolution_s            int CHECK (resolution_s > 0),
  resolution_business     boolean NOT NULL DEFAULT true,
  created_at              timestamptz NOT NULL DEFAULT now (),
  UNIQUE (priority, channel)
);

-- One clock per ticket and metric. policy_id NULL: the default policy of the
-- settings (ATENDE_SLA_FIRST_RESPONSE_MIN, wall time). calendar_id NULL: wall
-- time. version grows with every change of plan; a check naming another
-- version does nothing. cycle counts next-response rounds. breaches counts
-- the breaches of all cycles (KPIs: within target = met with no breach).
CREATE TABLE sla_clock (
  ticket_id     bigint NOT NULL REFERENCES ticket (id),
  metric        text NOT NULL CHECK (metric IN ('first_response', 'next_response', 'resolution')),
  policy_id     bigint REFERENCES sla_policy (id),
  priority      text NOT NULL,
  calendar_id   bigint REFERENCES sla_calendar (id),
  target_s      bigint NOT NULL CHECK (target_s > 0),
  consumed_s    bigint NOT NULL DEFAULT 0,
  running_since timestamptz,
  pause_reason  text,
  due_at        timestamptz,
  warn_at       timestamptz,
  warned        boolean NOT NULL DEFAULT false,
  state         text NOT NULL CHECK (state IN ('running', 'paused', 'met', 'breached')),
  version       int NOT NULL DEFAULT 1,
  cycle         int NOT NULL DEFAULT 1,
  breaches      int NOT NULL DEFAULT 0,
  started_at    timestamptz NOT NULL DEFAULT now (),
  met_at        timestamptz,
  breached_at   timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now (),
  PRIMARY KEY (ticket_id, metric)
);
CREATE INDEX sla_clock_due ON sla_clock (due_at) WHERE state = 'running';

-- What happened to the clocks. A warning and a breach are recorded once per
-- clock cycle, whatever is redelivered (the unique index backs the state check).
CREATE TABLE sla_event (
  id         bigserial PRIMARY KEY,
  ticket_id  bigint NOT NULL REFERENCES ticket (id),
  metric     text NOT NULL,
  cycle      int NOT NULL DEFAULT 1,
  kind       text NOT NULL CHECK (kind IN ('started', 'warning', 'breach', 'met', 'paused',
                                           'resumed', 'retargeted')),
  detail     text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX sla_event_ticket ON sla_event (ticket_id, id);
CREATE UNIQUE INDEX sla_event_once ON sla_event (ticket_id, metric, cycle, kind)
  WHERE kind IN ('warning', 'breach');
