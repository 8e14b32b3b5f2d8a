-- atende store, version 16: the desk (issue 15, design "The desk"). Teams, the agents'
-- settings (one row per app_user that takes tickets), each agent's load kept by the
-- assignment transaction, the queue of tickets that need a person, and the log of
-- every assignment. SQL in lib/store/store_desk.c; route's side in workers/route/desk*.c.

CREATE TABLE team (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  is_default boolean NOT NULL DEFAULT false,        -- new tickets go here (until rules)
  created_at timestamptz NOT NULL DEFAULT now ()
);
CREATE UNIQUE INDEX team_one_default ON team (is_default) WHERE is_default;

-- A language tag's primary subtag, lower case: "pt-BR" -> "pt" (tickets hold "pt").
CREATE FUNCTION at_desk_lang (tag text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN split_part (lower (tag), '-', 1);

CREATE FUNCTION at_desk_langs (tags text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN ARRAY (SELECT DISTINCT at_desk_lang (t) FROM unnest (tags) AS t);

-- An agent's settings. weights: channel -> weight of one ticket of that channel in the
-- agent's capacity, overriding ATENDE_DESK_CHANNEL_WEIGHTS; cap_limit: the most load.
CREATE TABLE agent (
  user_id     bigint PRIMARY KEY REFERENCES app_user (id) ON DELETE CASCADE,
  team_ids    bigint[] NOT NULL DEFAULT '{}',
  skills      text[] NOT NULL DEFAULT '{}' CHECK (cardinality (skills) <= 32),
  languages   text[] NOT NULL DEFAULT '{}' CHECK (cardinality (languages) <= 16),
  lang_keys   text[] GENERATED ALWAYS AS (at_desk_langs (languages)) STORED,
  cap_limit   numeric(8,3) NOT NULL DEFAULT 3 CHECK (cap_limit BETWEEN 0 AND 1000),
  weights     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof (weights) = 'object'),
  presence    text NOT NULL DEFAULT 'offline' CHECK (presence IN ('online', 'away', 'offline')),
  presence_at timestamptz NOT NULL DEFAULT now (),
  updated_at  timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX agent_teams ON agent USING gin (team_ids);

-- What an agent holds now: the sum of the weights of their assigned tickets. Written only
-- in the transaction that assigns or releases a ticket, with the row locked; the
-- candidates of an assignment are read from here (never a count of tickets per agent).
CREATE TABLE agent_load (
  user_id    bigint PRIMARY KEY REFERENCES agent (user_id) ON DELETE CASCADE,
  load       numeric(10,3) NOT NULL DEFAULT 0 CHECK (load >= 0),
  tickets    int NOT NULL DEFAULT 0 CHECK (tickets >= 0),
  updated_at timestamptz NOT NULL DEFAULT now ()
);

-- A ticket at the desk: queued for its team, assigned to an agent, or done (resolved).
-- language: the ticket's primary subtag ("" any); skills: what it needs (rules set them).
CREATE TABLE desk_ticket (
  ticket_id     bigint PRIMARY KEY REFERENCES ticket (id),
  team_id       bigint NOT NULL REFERENCES team (id),
  state         text NOT NULL CHECK (state IN ('queued', 'assigned', 'done')),
  priority_rank smallint NOT NULL DEFAULT 1,        -- 0 high, 1 normal
  channel       text NOT NULL,
  language      text NOT NULL DEFAULT '',
  skills        text[] NOT NULL DEFAULT '{}',
  queued_at     timestamptz NOT NULL DEFAULT now (),
  assignee      bigint REFERENCES agent (user_id),
  assignment_id bigint,
  weight        numeric(8,3) NOT NULL DEFAULT 0,    -- what it adds to its assignee's load
  last_agent    bigint,                             -- the agent who had it last
  skip_agent    bigint,                             -- taken from them for not replying
  reply_due_at  timestamptz,                        -- the assignee owes the customer a reply
  updated_at    timestamptz NOT NULL DEFAULT now (),
  CHECK ((state = 'assigned') = (assignee IS NOT NULL))
);
CREATE INDEX desk_ticket_queue ON desk_ticket (team_id, priority_rank, queued_at, ticket_id)
  WHERE state = 'queued';
CREATE INDEX desk_ticket_assignee ON desk_ticket (assignee) WHERE state = 'assigned';

-- Every assignment, and how it ended. At most one open row per ticket: a ticket is never
-- held by two agents.
CREATE TABLE desk_assignment (
  id             bigserial PRIMARY KEY,
  ticket_id      bigint NOT NULL REFERENCES ticket (id),
  agent_id       bigint NOT NULL REFERENCES agent (user_id),
  team_id        bigint NOT NULL REFERENCES team (id),
  how            text NOT NULL CHECK (how IN ('auto', 'manual', 'transfer', 'reopen')),
  weight         numeric(8,3) NOT NULL,
  widened        text NOT NULL DEFAULT '' CHECK (widened IN ('', 'skills', 'language')),
  actor          text,                              -- manual: user:<id>, key:<id>
  assigned_at    timestamptz NOT NULL DEFAULT now (),
  released_at    timestamptz,
  release_reason text CHECK (release_reason IN ('resolved', 'no_reply', 'reassigned',
                                                'transferred'))
);
CREATE UNIQUE INDEX desk_assignment_current ON desk_assignment (ticket_id)
  WHERE released_at IS NULL;
CREATE INDEX desk_assignment_agent ON desk_assignment (agent_id, assigned_at);

-- The new scope agents:write (at_auth.h): teams and agents' settings, for leads.
CREATE OR REPLACE FUNCTION at_scopes_known (scopes text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT scopes <@ ARRAY['messages:write', 'orders:write', 'tickets:read', 'tickets:write',
                         'customers:read', 'customers:write', 'templates:write', 'kpis:read',
                         'dlq:admin', 'admin', 'kb:write', 'agents:write']::text[]
$$;
