-- atende store, version 23: the agents' inbox (issue 16). Internal notes on a ticket
-- (agents' words to each other, never sent to the customer) and a ticket snoozed out of
-- the inbox's lists until a time. SQL in lib/store/store_inbox.c; the api in api/api_inbox*.c.

CREATE TABLE ticket_note (
  id         bigserial PRIMARY KEY,
  ticket_id  bigint NOT NULL REFERENCES ticket (id),
  author_id  bigint REFERENCES app_user (id),         -- NULL: written with an API key
  author     text NOT NULL,                            -- the person's name, or key:<id>
  body       text NOT NULL CHECK (length (body) BETWEEN 1 AND 65536),
  created_at timestamptz NOT NULL DEFAULT now ()
);
CREATE INDEX ticket_note_ticket ON ticket_note (ticket_id, id);

-- Hidden from the inbox's lists while in the future; NULL or past: shown.
ALTER TABLE ticket ADD COLUMN snoozed_until timestamptz;
