-- atende store, version 22: KPIs from one fact row per ticket (issue 16, README
-- "KPIs: facts, rollups, definitions"). ticket_fact is kept by AFTER triggers on
-- the tables the stages already write (ticket, ticket_message, desk_ticket,
-- desk_assignment, sla_clock, survey_answer), so it changes in the very
-- transaction of the stage that changed the ticket and cannot drift from it.
-- kpi_rollup holds per hour and per day (UTC) counts, sums and log-spaced
-- histograms of first response and resolution times, by all, channel, intent,
-- team and agent; at_kpi_refresh () recomputes the hours a fact change touched
-- (listed in kpi_dirty) and their days. SQL that reads them: lib/store/store_kpi.c.

CREATE TABLE ticket_fact (
  ticket_id                bigint PRIMARY KEY REFERENCES ticket (id),
  customer_id              bigint NOT NULL,
  created_at               timestamptz NOT NULL,
  channel                  text NOT NULL,
  intent                   text,
  priority                 text,
  team_id                  bigint,            -- the desk's team (desk_ticket)
  agent_id                 bigint,            -- the last agent assigned (desk_assignment)
  first_response_s         float8,            -- ticket.first_response_at - created_at
  first_resolved_at        timestamptz,
  resolution_s             float8,            -- first resolution - created_at
  resolved_at              timestamptz,       -- the last resolution
  resolutions              int NOT NULL DEFAULT 0,
  reopenings               int NOT NULL DEFAULT 0,   -- resolved -> not resolved
  reopened_at              timestamptz,       -- the first reopening
  agent_replies            int NOT NULL DEFAULT 0,
  agent_replies_at_resolve int,               -- agent replies before the first resolution
  handle_time_s            float8 NOT NULL DEFAULT 0, -- time assigned, ended assignments
  sla_first_response       text CHECK (sla_first_response IN ('met', 'breached', 'running')),
  sla_next_response        text CHECK (sla_next_response IN ('met', 'breached', 'running')),
  sla_resolution           text CHECK (sla_resolution IN ('met', 'breached', 'running')),
  csat                     smallint,
  nps                      smallint,          -- an NPS survey that names the ticket
  auto_answered            boolean NOT NULL DEFAULT false,
  -- first contact resolution: resolved after exactly one agent reply, and not
  -- reopened within 7 days of that first resolution
  fcr                      boolean GENERATED ALWAYS AS (
    first_resolved_at IS NOT NULL AND agent_replies_at_resolve = 1
    AND (reopened_at IS NULL
         OR extract (epoch FROM reopened_at - first_resolved_at) >= 7 * 86400)) STORED,
  updated_at               timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX ticket_fact_created ON ticket_fact (created_at);

-- The hours whose rollups a fact change made stale. Append-only (no unique
-- key): a writer never waits on another, and a change committed after a
-- refresh read the list is still listed for the next one.
CREATE TABLE kpi_dirty (
  id   bigserial PRIMARY KEY,
  hour timestamptz NOT NULL
);

-- grain hour | day (UTC); dim all | channel | intent | team | agent, value ''
-- for all (and for a ticket with no intent, team or agent yet).
CREATE TABLE kpi_rollup (
  grain             text NOT NULL CHECK (grain IN ('hour', 'day')),
  bucket            timestamptz NOT NULL,
  dim               text NOT NULL CHECK (dim IN ('all', 'channel', 'intent', 'team', 'agent')),
  value             text NOT NULL,
  tickets           bigint NOT NULL,
  fr_n              bigint NOT NULL,
  fr_hist           bigint[] NOT NULL,
  res_n             bigint NOT NULL,
  res_hist          bigint[] NOT NULL,
  people_resolved_n bigint NOT NULL,
  fcr_n             bigint NOT NULL,
  reopened_n        bigint NOT NULL,
  reopenings        bigint NOT NULL,
  auto_n            bigint NOT NULL,
  handle_s          float8 NOT NULL,
  handle_n          bigint NOT NULL,
  csat_n            bigint NOT NULL,
  csat_good         bigint NOT NULL,
  sla_fr_met        bigint NOT NULL,
  sla_fr_breached   bigint NOT NULL,
  sla_nr_met        bigint NOT NULL,
  sla_nr_breached   bigint NOT NULL,
  sla_res_met       bigint NOT NULL,
  sla_res_breached  bigint NOT NULL,
  PRIMARY KEY (grain, dim, bucket, value)
);

-- The bucket of a duration (lib/core/at_kpi_hist.h): 0 below 1 s, i in 1..43
-- for [2^((i-1)/2), 2^(i/2)) s, 44 from 2^21.5 s (about 34 days).
CREATE FUNCTION at_kpi_bucket (s float8) RETURNS int
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE i int;
BEGIN
  IF s < 1 THEN RETURN 0; END IF;
  i := least (44, floor (2 * ln (s) / ln (2::float8))::int + 1);
  WHILE i > 1 AND s < power (2::float8, ((i - 1) / 2.0)::float8) LOOP i := i - 1; END LOOP;
  WHILE i < 44 AND s >= power (2::float8, (i / 2.0)::float8) LOOP i := i + 1; END LOOP;
  RETURN i;
END $$;

CREATE FUNCTION at_kpi_hist_add (h bigint[], s float8) RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE b int;
BEGIN
  IF s IS NULL THEN RETURN h; END IF;
  b := at_kpi_bucket (s) + 1;
  h[b] := h[b] + 1;
  RETURN h;
END $$;

CREATE AGGREGATE at_kpi_hist (float8) (SFUNC = at_kpi_hist_add, STYPE = bigint[],
  INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}');

CREATE FUNCTION at_kpi_hist_merge (a bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN b IS NULL THEN a
    ELSE ARRAY (SELECT a[i] + b[i] FROM generate_series (1, 45) AS i) END
$$;

CREATE AGGREGATE at_kpi_hist_sum (bigint[]) (SFUNC = at_kpi_hist_merge, STYPE = bigint[],
  INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}');

-- A clock's outcome as the KPIs count it: breached once any cycle breached.
CREATE FUNCTION at_kpi_sla_outcome (state text, breaches int) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN breaches > 0 OR state = 'breached' THEN 'breached'
              WHEN state = 'met' THEN 'met' ELSE 'running' END
$$;

-- --- keeping the facts ------------------------------------------------------

CREATE FUNCTION at_kpi_ticket_fact () RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  resolving boolean;
  reopening boolean;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ticket_fact (ticket_id, customer_id, created_at, channel, intent, priority,
                             auto_answered)
    VALUES (NEW.id, NEW.customer_id, NEW.created_at, NEW.channel, NEW.intent, NEW.priority,
            NEW.auto_answered)
    ON CONFLICT (ticket_id) DO NOTHING;
    RETURN NULL;
  END IF;
  resolving := OLD.status <> 'resolved' AND NEW.status = 'resolved';
  reopening := OLD.status = 'resolved' AND NEW.status <> 'resolved';
  UPDATE ticket_fact f SET
    channel = NEW.channel, intent = NEW.intent, priority = NEW.priority,
    auto_answered = NEW.auto_answered,
    first_response_s = extract (epoch FROM NEW.first_response_at - NEW.created_at),
    resolved_at = CASE WHEN resolving THEN NEW.resolved_at ELSE f.resolved_at END,
    resolutions = f.resolutions + resolving::int,
    first_resolved_at = CASE WHEN resolving AND f.first_resolved_at IS NULL
                             THEN NEW.resolved_at ELSE f.first_resolved_at END,
    resolution_s = CASE WHEN resolving AND f.first_resolved_at IS NULL
                        THEN extract (epoch FROM NEW.resolved_at - NEW.created_at)
                        ELSE f.resolution_s END,
    agent_replies_at_resolve = CASE WHEN resolving AND f.first_resolved_at IS NULL
                                    THEN f.agent_replies ELSE f.agent_replies_at_resolve END,
    reopenings = f.reopenings + reopening::int,
    reopened_at = CASE WHEN reopening THEN coalesce (f.reopened_at, now ()) ELSE f.reopened_at END,
    updated_at = now ()
  WHERE f.ticket_id = NEW.id;
  RETURN NULL;
END $$;

CREATE FUNCTION at_kpi_message_fact () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ticket_fact SET agent_replies = agent_replies + 1, updated_at = now ()
   WHERE ticket_id = NEW.ticket_id;
  RETURN NULL;
END $$;

CREATE FUNCTION at_kpi_desk_fact () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'desk_ticket' THEN
    UPDATE ticket_fact SET team_id = NEW.team_id, updated_at = now ()
     WHERE ticket_id = NEW.ticket_id AND team_id IS DISTINCT FROM NEW.team_id;
  ELSIF TG_OP = 'INSERT' THEN
    UPDATE ticket_fact SET agent_id = NEW.agent_id, team_id = NEW.team_id, updated_at = now ()
     WHERE ticket_id = NEW.ticket_id;
  ELSIF OLD.released_at IS NULL AND NEW.released_at IS NOT NULL THEN
    UPDATE ticket_fact
       SET handle_time_s = handle_time_s
                           + greatest (0, extract (epoch FROM NEW.released_at - NEW.assigned_at)),
           updated_at = now ()
     WHERE ticket_id = NEW.ticket_id;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION at_kpi_sla_fact () RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE o text := at_kpi_sla_outcome (NEW.state, NEW.breaches);
BEGIN
  UPDATE ticket_fact SET
    sla_first_response = CASE WHEN NEW.metric = 'first_response' THEN o ELSE sla_first_response END,
    sla_next_response = CASE WHEN NEW.metric = 'next_response' THEN o ELSE sla_next_response END,
    sla_resolution = CASE WHEN NEW.metric = 'resolution' THEN o ELSE sla_resolution END,
    updated_at = now ()
  WHERE ticket_id = NEW.ticket_id;
  RETURN NULL;
END $$;

CREATE FUNCTION at_kpi_survey_fact () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ticket_fact f SET csat = CASE WHEN s.kind = 'csat' THEN NEW.score ELSE f.csat END,
                           nps = CASE WHEN s.kind = 'nps' THEN NEW.score ELSE f.nps END,
                           updated_at = now ()
    FROM survey s WHERE s.id = NEW.survey_id AND f.ticket_id = s.ticket_id;
  RETURN NULL;
END $$;

CREATE FUNCTION at_kpi_fact_dirty () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO kpi_dirty (hour) VALUES (date_trunc ('hour', NEW.created_at, 'UTC'));
  RETURN NULL;
END $$;

-- --- refreshing the rollups ---------------------------------------------------

-- Recomputes, from ticket_fact, the (at most 168) newest hours listed in
-- kpi_dirty and the days that hold them; returns how many hours. One
-- refresher at a time: another caller waits for it at most 2 s (then it
-- reads what the first one committed), and past that returns 0 and reads the
-- rollups as they are (an api thread or a /metrics scrape never waits long
-- behind a long refresh); what a refresh does not see yet (a fact changed in
-- a transaction still open, an hour past the 168) stays listed for the next.
CREATE FUNCTION at_kpi_refresh () RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  hours timestamptz[];
  days timestamptz[];
BEGIN
  PERFORM set_config ('lock_timeout', '2000', true);
  BEGIN
    PERFORM pg_advisory_xact_lock (7021160873);          -- "kpi" rollups
  EXCEPTION WHEN lock_not_available THEN
    RETURN 0;
  END;
  PERFORM set_config ('lock_timeout', '0', true);
  hours := ARRAY (SELECT DISTINCT hour FROM kpi_dirty ORDER BY hour DESC LIMIT 168);
  DELETE FROM kpi_dirty WHERE hour = ANY (hours);
  IF cardinality (hours) = 0 THEN hours := NULL; END IF;
  IF hours IS NULL THEN RETURN 0; END IF;
  DELETE FROM kpi_rollup WHERE grain = 'hour' AND bucket = ANY (hours);
  INSERT INTO kpi_rollup
  SELECT 'hour', h,
    CASE WHEN grouping (f.channel) = 0 THEN 'channel' WHEN grouping (f.intent) = 0 THEN 'intent'
         WHEN grouping (f.team_id) = 0 THEN 'team' WHEN grouping (f.agent_id) = 0 THEN 'agent'
         ELSE 'all' END,
    CASE WHEN grouping (f.channel) = 0 THEN f.channel
         WHEN grouping (f.intent) = 0 THEN coalesce (f.intent, '')
         WHEN grouping (f.team_id) = 0 THEN coalesce (f.team_id::text, '')
         WHEN grouping (f.agent_id) = 0 THEN coalesce (f.agent_id::text, '') ELSE '' END,
    count (*), count (f.first_response_s), at_kpi_hist (f.first_response_s),
    count (f.resolution_s), at_kpi_hist (f.resolution_s),
    count (*) FILTER (WHERE f.agent_replies_at_resolve >= 1), count (*) FILTER (WHERE f.fcr),
    count (*) FILTER (WHERE f.reopenings > 0), coalesce (sum (f.reopenings), 0),
    count (*) FILTER (WHERE f.auto_answered),
    coalesce (sum (f.handle_time_s), 0), count (*) FILTER (WHERE f.handle_time_s > 0),
    count (f.csat), count (*) FILTER (WHERE f.csat >= 4),
    count (*) FILTER (WHERE f.sla_first_response = 'met'),
    count (*) FILTER (WHERE f.sla_first_response = 'breached'),
    count (*) FILTER (WHERE f.sla_next_response = 'met'),
    count (*) FILTER (WHERE f.sla_next_response = 'breached'),
    count (*) FILTER (WHERE f.sla_resolution = 'met'),
    count (*) FILTER (WHERE f.sla_resolution = 'breached')
  FROM unnest (hours) AS h
  JOIN ticket_fact f ON f.created_at >= h AND f.created_at < h + interval '1 hour'
  GROUP BY h, GROUPING SETS ((), (f.channel), (f.intent), (f.team_id), (f.agent_id));
  days := ARRAY (SELECT DISTINCT date_trunc ('day', h, 'UTC') FROM unnest (hours) AS h);
  DELETE FROM kpi_rollup WHERE grain = 'day' AND bucket = ANY (days);
  INSERT INTO kpi_rollup
  SELECT 'day', d, r.dim, r.value, sum (tickets), sum (fr_n), at_kpi_hist_sum (fr_hist),
    sum (res_n), at_kpi_hist_sum (res_hist), sum (people_resolved_n), sum (fcr_n),
    sum (reopened_n), sum (reopenings), sum (auto_n), sum (handle_s), sum (handle_n),
    sum (csat_n), sum (csat_good), sum (sla_fr_met), sum (sla_fr_breached), sum (sla_nr_met),
    sum (sla_nr_breached), sum (sla_res_met), sum (sla_res_breached)
  FROM unnest (days) AS d
  JOIN kpi_rollup r ON r.grain = 'hour' AND r.bucket >= d AND r.bucket < d + interval '1 day'
  GROUP BY d, r.dim, r.value;
  RETURN cardinality (hours);
END $$;

-- --- the facts of the tickets there are (backfill), then the triggers ---------

INSERT INTO ticket_fact (ticket_id, customer_id, created_at, channel, intent, priority,
  team_id, agent_id, first_response_s, first_resolved_at, resolution_s, resolved_at,
  resolutions, agent_replies, agent_replies_at_resolve, handle_time_s, sla_first_response,
  sla_next_response, sla_resolution, csat, nps, auto_answered)
SELECT t.id, t.customer_id, t.created_at, t.channel, t.intent, t.priority,
  coalesce (a.team_id, dt.team_id), a.agent_id,
  extract (epoch FROM t.first_response_at - t.created_at),
  CASE WHEN t.status = 'resolved' THEN t.resolved_at END,
  CASE WHEN t.status = 'resolved' THEN extract (epoch FROM t.resolved_at - t.created_at) END,
  CASE WHEN t.status = 'resolved' THEN t.resolved_at END,
  (t.status = 'resolved')::int,
  (SELECT count (*) FROM ticket_message m WHERE m.ticket_id = t.id AND m.author = 'agent'),
  CASE WHEN t.status = 'resolved' THEN
    (SELECT count (*) FROM ticket_message m WHERE m.ticket_id = t.id AND m.author = 'agent'
        AND m.created_at <= t.resolved_at) END,
  coalesce ((SELECT sum (extract (epoch FROM x.released_at - x.assigned_at))
               FROM desk_assignment x WHERE x.ticket_id = t.id AND x.released_at IS NOT NULL), 0),
  (SELECT at_kpi_sla_outcome (c.state, c.breaches) FROM sla_clock c
    WHERE c.ticket_id = t.id AND c.metric = 'first_response'),
  (SELECT at_kpi_sla_outcome (c.state, c.breaches) FROM sla_clock c
    WHERE c.ticket_id = t.id AND c.metric = 'next_response'),
  (SELECT at_kpi_sla_outcome (c.state, c.breaches) FROM sla_clock c
    WHERE c.ticket_id = t.id AND c.metric = 'resolution'),
  (SELECT a2.score FROM survey s JOIN survey_answer a2 ON a2.survey_id = s.id
    WHERE s.ticket_id = t.id AND s.kind = 'csat'),
  (SELECT a2.score FROM survey s JOIN survey_answer a2 ON a2.survey_id = s.id
    WHERE s.ticket_id = t.id AND s.kind = 'nps'),
  t.auto_answered
FROM ticket t
LEFT JOIN desk_ticket dt ON dt.ticket_id = t.id
LEFT JOIN LATERAL (SELECT x.agent_id, x.team_id FROM desk_assignment x
                    WHERE x.ticket_id = t.id ORDER BY x.id DESC LIMIT 1) a ON true;
INSERT INTO kpi_dirty (hour)
SELECT DISTINCT date_trunc ('hour', created_at, 'UTC') FROM ticket_fact;

CREATE TRIGGER ticket_fact_insert AFTER INSERT ON ticket
  FOR EACH ROW EXECUTE FUNCTION at_kpi_ticket_fact ();
CREATE TRIGGER ticket_fact_update AFTER UPDATE ON ticket
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                     OR OLD.intent IS DISTINCT FROM NEW.intent
                     OR OLD.priority IS DISTINCT FROM NEW.priority
                     OR OLD.channel IS DISTINCT FROM NEW.channel
                     OR OLD.auto_answered IS DISTINCT FROM NEW.auto_answered
                     OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at
                     OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at)
  EXECUTE FUNCTION at_kpi_ticket_fact ();
CREATE TRIGGER ticket_fact_agent_reply AFTER INSERT ON ticket_message
  FOR EACH ROW WHEN (NEW.author = 'agent') EXECUTE FUNCTION at_kpi_message_fact ();
CREATE TRIGGER ticket_fact_team AFTER INSERT OR UPDATE OF team_id ON desk_ticket
  FOR EACH ROW EXECUTE FUNCTION at_kpi_desk_fact ();
CREATE TRIGGER ticket_fact_assignment AFTER INSERT OR UPDATE OF released_at ON desk_assignment
  FOR EACH ROW EXECUTE FUNCTION at_kpi_desk_fact ();
CREATE TRIGGER ticket_fact_sla AFTER INSERT OR UPDATE OF state, breaches ON sla_clock
  FOR EACH ROW EXECUTE FUNCTION at_kpi_sla_fact ();
CREATE TRIGGER ticket_fact_survey AFTER INSERT ON survey_answer
  FOR EACH ROW EXECUTE FUNCTION at_kpi_survey_fact ();
CREATE TRIGGER kpi_fact_dirty_insert AFTER INSERT ON ticket_fact
  FOR EACH ROW EXECUTE FUNCTION at_kpi_fact_dirty ();
CREATE TRIGGER kpi_fact_dirty_update AFTER UPDATE ON ticket_fact
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION at_kpi_fact_dirty ();

-- What the by=day answer reads beside the rollups: NPS answers by day,
-- orders placed and delivered by day.
CREATE INDEX survey_answer_created ON survey_answer (created_at);
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX orders_delivered ON orders (delivered_at) WHERE delivered_at IS NOT NULL;
