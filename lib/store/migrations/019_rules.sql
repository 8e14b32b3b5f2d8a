-- atende store, version 19: rules (issue 15, design "The desk"). A rule listens to an
-- event, checks conditions on the ticket, its customer's latest order and the message,
-- and applies ordered actions; lib/core/rule.c validates and plans them, route applies
-- them (workers/route/rules.c), SQL in lib/store/store_rule.c.

CREATE TABLE rule (
  id         bigserial PRIMARY KEY,
  position   int NOT NULL DEFAULT 0,              -- evaluated by (position, id)
  name       text NOT NULL CHECK (length (name) BETWEEN 1 AND 80),
  enabled    boolean NOT NULL DEFAULT true,
  event      text NOT NULL,
  after_s    int CHECK ((event = 'idle') = (after_s IS NOT NULL)),  -- idle: quiet this long
  conditions jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof (conditions) = 'array'),
  actions    jsonb NOT NULL CHECK (jsonb_typeof (actions) = 'array'),
  created_at timestamptz NOT NULL DEFAULT now (),
  updated_at timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX rule_by_event ON rule (event, position, id) WHERE enabled;

-- Every evaluation of a rule on a ticket, fired or not, and why. One chain starts at an
-- event (chain) and follows the events its actions raise (depth); rule_id 0 is the
-- chain's guard stopping it. The bus message that raised the chain (msg_id) makes a
-- redelivered message find its rows and apply nothing twice.
CREATE TABLE rule_run (
  id        bigserial PRIMARY KEY,
  ticket_id bigint NOT NULL REFERENCES ticket (id),
  rule_id   bigint NOT NULL,                       -- 0: the chain guard; no FK: the log outlives a rule
  msg_id    text NOT NULL,
  chain     text NOT NULL,
  depth     smallint NOT NULL,
  event     text NOT NULL,
  fired     boolean NOT NULL,
  why       text NOT NULL,
  actions   jsonb NOT NULL DEFAULT '[]',
  at        timestamptz NOT NULL DEFAULT now (),
  UNIQUE (msg_id, ticket_id, chain, depth, event, rule_id)
);
CREATE INDEX rule_run_ticket ON rule_run (ticket_id, id);

-- What rules write on a ticket: tags, and when it was escalated to a lead.
ALTER TABLE ticket ADD COLUMN tags text[] NOT NULL DEFAULT '{}'
  CHECK (cardinality (tags) <= 32);
ALTER TABLE ticket ADD COLUMN escalated_at timestamptz;
