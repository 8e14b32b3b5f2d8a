-- atende store, version 1: customers, tickets, orders, notifications, surveys, bus.

CREATE TABLE customer (
  id          bigserial PRIMARY KEY,
  name        text,
  locale      text NOT NULL DEFAULT 'pt-BR',
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One customer, many identities; kind is email | phone | whatsapp | chat | messenger | instagram.
CREATE TABLE identity (
  id          bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customer(id),
  kind        text NOT NULL,
  value       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, value)
);
CREATE INDEX identity_customer ON identity (customer_id);

CREATE TABLE ticket (
  id                 bigserial PRIMARY KEY,
  customer_id        bigint NOT NULL REFERENCES customer(id),
  channel            text NOT NULL,
  status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'resolved')),
  subject            text,
  intent             text,
  priority           text,
  language           text,
  auto_answered      boolean NOT NULL DEFAULT false,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  first_response_due timestamptz,
  first_response_at  timestamptz,
  resolved_at        timestamptz
);
CREATE INDEX ticket_open_by_customer ON ticket (customer_id, channel) WHERE status <> 'resolved';

CREATE TABLE ticket_message (
  id                  bigserial PRIMARY KEY,
  ticket_id           bigint NOT NULL REFERENCES ticket(id),
  direction           text NOT NULL CHECK (direction IN ('in', 'out')),
  author              text NOT NULL CHECK (author IN ('customer', 'agent', 'bot')),
  channel             text NOT NULL,
  body                text NOT NULL,
  provider_message_id text,
  bus_message_id      uuid,
  language            text,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_message_ticket ON ticket_message (ticket_id, id);
CREATE UNIQUE INDEX ticket_message_provider_id ON ticket_message (channel, provider_message_id)
  WHERE provider_message_id IS NOT NULL AND direction = 'in';
CREATE UNIQUE INDEX ticket_message_bus_id ON ticket_message (bus_message_id) WHERE bus_message_id IS NOT NULL;

CREATE TABLE orders (
  id                text PRIMARY KEY,
  customer_id       bigint REFERENCES customer(id),
  status            text NOT NULL,
  status_rank       int NOT NULL,
  expected_delivery date,
  tracking_url      text,
  status_at         timestamptz NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer ON orders (customer_id, status_at DESC);

CREATE TABLE order_event (
  id           bigserial PRIMARY KEY,
  order_id     text NOT NULL REFERENCES orders(id),
  event_id     text NOT NULL,
  status       text NOT NULL,
  occurred_at  timestamptz NOT NULL,
  applied      boolean NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (order_id, event_id)
);

-- Everything that goes out to a customer. id is the idempotency key given to providers.
CREATE TABLE notification (
  id            uuid PRIMARY KEY,
  customer_id   bigint REFERENCES customer(id),
  ticket_id     bigint REFERENCES ticket(id),
  order_id      text REFERENCES orders(id),
  kind          text NOT NULL CHECK (kind IN ('reply', 'auto_reply', 'order_status', 'survey')),
  channel       text NOT NULL,
  recipient     text NOT NULL,
  body          text NOT NULL,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts      int NOT NULL DEFAULT 0,
  last_error    text,
  http_status   int,
  created_at    timestamptz NOT NULL DEFAULT now(),
  sending_at    timestamptz,
  delivered_at  timestamptz
);
CREATE INDEX notification_ticket ON notification (ticket_id);
CREATE INDEX notification_order ON notification (order_id);

CREATE TABLE survey (
  id          uuid PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('csat', 'nps')),
  ticket_id   bigint UNIQUE REFERENCES ticket(id),
  customer_id bigint NOT NULL REFERENCES customer(id),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE survey_answer (
  survey_id   uuid PRIMARY KEY REFERENCES survey(id),
  score       int NOT NULL CHECK (score BETWEEN 0 AND 10),
  comment     text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- The bus: one row per pending message. Done rows leave the table, so it stays small.
CREATE TABLE bus_message (
  id          uuid PRIMARY KEY,
  stage       text NOT NULL,
  key         text NOT NULL,
  type        text NOT NULL,
  attempt     int NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL,
  not_before  timestamptz NOT NULL,
  trace_id    text NOT NULL,
  payload     bytea NOT NULL,
  last_error  text
) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_cost_delay = 0);
CREATE INDEX bus_message_ready ON bus_message (stage, not_before, id);

-- Messages that failed for good, with their reason; they can be listed and replayed.
CREATE TABLE bus_dead (
  id          uuid PRIMARY KEY,
  stage       text NOT NULL,
  key         text NOT NULL,
  type        text NOT NULL,
  attempt     int NOT NULL,
  created_at  timestamptz NOT NULL,
  dead_at     timestamptz NOT NULL DEFAULT now(),
  trace_id    text NOT NULL,
  payload     bytea NOT NULL,
  reason      text NOT NULL
);
