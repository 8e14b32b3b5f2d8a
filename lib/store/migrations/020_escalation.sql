-- atende store, version 20: escalation reaches a team's leads (issue 15). A team names its
-- leads (app_user ids of role lead or admin); a rule's escalate action records an
-- escalation of the ticket and one notice per lead of the ticket's team, which notify
-- mails to the lead (lead.notify on the bus). SQL in lib/store/store_escalation.c.

ALTER TABLE team ADD COLUMN leads bigint[] NOT NULL DEFAULT '{}'
  CHECK (cardinality (leads) <= 16);

-- One escalate action that fired: the bus message whose rule chain fired it, so that a
-- message delivered again records nothing twice.
CREATE TABLE escalation (
  id         bigserial PRIMARY KEY,
  ticket_id  bigint NOT NULL REFERENCES ticket (id),
  team_id    bigint REFERENCES team (id) ON DELETE SET NULL,
  rule_id    bigint NOT NULL,                      -- no FK: the record outlives a rule
  rule_name  text NOT NULL DEFAULT '',
  event      text NOT NULL,
  msg_id     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now (),
  UNIQUE (msg_id, ticket_id, rule_id)
);
CREATE INDEX escalation_ticket ON escalation (ticket_id);
CREATE INDEX escalation_created ON escalation (created_at DESC, id DESC);

-- Each lead told of an escalation, and whether the mail went out.
CREATE TABLE escalation_notice (
  escalation_id bigint NOT NULL REFERENCES escalation (id) ON DELETE CASCADE,
  lead_id       bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  email         text NOT NULL,
  state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
  attempts      int NOT NULL DEFAULT 0,
  sent_at       timestamptz,
  last_error    text,
  PRIMARY KEY (escalation_id, lead_id)
);
