-- atende store, version 24: saved replies (issue 16). Texts agents insert into a reply from
-- the inbox, per locale and optionally per intent, with the message templates' placeholders
-- ({first_name}, {order_id}, ...: lib/outbound/at_template.h) filled for the ticket at hand.
-- Written by leads (templates:write), read by agents. SQL in lib/store/store_reply.c; the api
-- in api/api_replies.c.

CREATE TABLE saved_reply (
  id         bigserial PRIMARY KEY,
  title      text NOT NULL CHECK (length (title) BETWEEN 1 AND 200),
  locale     text NOT NULL CHECK (locale IN ('pt-BR', 'en', 'es')),
  intent     text CHECK (intent IN ('order_status', 'return_refund', 'cancel', 'payment',
                                    'product_question', 'complaint', 'other')),
  body       text NOT NULL CHECK (length (body) BETWEEN 1 AND 2000),
  created_at timestamptz NOT NULL DEFAULT now (),
  updated_at timestamptz NOT NULL DEFAULT now (),
  UNIQUE (locale, title)
);
