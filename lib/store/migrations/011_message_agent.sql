-- Who wrote an agent's message: the signed-in person's name, or key:<id> for
-- a machine key (the api sets it from the credential, never from the body).
ALTER TABLE ticket_message ADD COLUMN agent text;
