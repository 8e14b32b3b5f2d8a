-- Outgoing delivery: the customer's channel preference and time zone, and what
-- notify recorded about each notification (channel choice, provider, the
-- provider's id and delivery status, holds for quiet hours and frequency cap).

ALTER TABLE customer
  ADD COLUMN preferred_channel text,          -- NULL: no preference (fallback order)
  ADD COLUMN timezone text;                   -- IANA name; NULL: the store's

-- A time zone must be one PostgreSQL knows: checked when written (a bad name
-- from an outside system is refused there), so reads need no check.
CREATE FUNCTION at_timezone_valid (tz text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM now () AT TIME ZONE tz;
  RETURN true;
EXCEPTION WHEN others THEN
  RETURN false;
END
$$;
ALTER TABLE customer ADD CONSTRAINT customer_timezone_valid
  CHECK (timezone IS NULL OR at_timezone_valid (timezone));

ALTER TABLE notification
  ADD COLUMN provider            text,          -- provider of the last attempt
  ADD COLUMN provider_message_id text,          -- the id the provider gave (wamid, SM..., Message-ID)
  ADD COLUMN provider_status     text,          -- sent delivered read failed (status callbacks)
  ADD COLUMN provider_status_at  timestamptz,
  ADD COLUMN provider_error      text,
  ADD COLUMN whatsapp_mode       text,          -- 'text' or 'template:<name>'
  ADD COLUMN failed_channels     text[] NOT NULL DEFAULT '{}',
  ADD COLUMN held_until          timestamptz,   -- last hold (quiet hours, frequency cap, rate limit)
  ADD COLUMN hold_reason         text;

CREATE UNIQUE INDEX notification_provider_message ON notification (provider, provider_message_id)
  WHERE provider_message_id IS NOT NULL;
-- frequency cap: a customer's recent sends
CREATE INDEX notification_customer_sent ON notification (customer_id, sending_at)
  WHERE sending_at IS NOT NULL;
