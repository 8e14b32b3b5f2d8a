-- atende store, version 4: email threading, attachments, customer merge.

-- The RFC 5322 Message-ID of an email message (inbound: the customer's;
-- outbound: the one atende gave it), without <>. Threading looks replies up
-- by it (In-Reply-To, References).
ALTER TABLE ticket_message ADD COLUMN email_message_id text;
CREATE INDEX ticket_message_email_id ON ticket_message (email_message_id)
  WHERE email_message_id IS NOT NULL;
-- The whole text as the customer sent it (quoted reply, signature) when
-- body holds only the part an agent reads; NULL when they are the same.
ALTER TABLE ticket_message ADD COLUMN full_body text;
ALTER TABLE ticket_message ADD COLUMN html_stripped boolean NOT NULL DEFAULT false;

-- Outbound email notifications: the Message-ID they were sent with
-- (at_email_message_id_for_notification), so a customer's reply threads.
ALTER TABLE notification ADD COLUMN email_message_id text;
CREATE INDEX notification_email_id ON notification (email_message_id)
  WHERE email_message_id IS NOT NULL;

-- Attachments: metadata next to the message, bytes apart (content NULL when
-- they were over the cap and not kept).
CREATE TABLE attachment (
  id                 bigserial PRIMARY KEY,
  ticket_message_id  bigint NOT NULL REFERENCES ticket_message(id),
  name               text NOT NULL,
  content_type       text NOT NULL,
  size               bigint NOT NULL CHECK (size >= 0),
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachment_message ON attachment (ticket_message_id);

CREATE TABLE attachment_content (
  attachment_id  bigint PRIMARY KEY REFERENCES attachment(id),
  content        bytea NOT NULL
);

-- A customer merged into another keeps its row (ids quoted elsewhere stay
-- valid) and points at the one that absorbed it.
ALTER TABLE customer ADD COLUMN merged_into bigint REFERENCES customer(id);
ALTER TABLE customer ADD COLUMN merged_at timestamptz;
ALTER TABLE customer ADD CONSTRAINT customer_not_merged_into_self CHECK (merged_into <> id);
CREATE INDEX customer_merged_into ON customer (merged_into) WHERE merged_into IS NOT NULL;
