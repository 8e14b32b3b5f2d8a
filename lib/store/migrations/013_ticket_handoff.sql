-- Why a ticket has its priority (the rules that raised it, e.g.
-- "complaint,agency,repeat_contact,negative_tone"), and when and why an
-- automatic flow handed it to people (a "não" to a knowledge-base answer,
-- a return outside the window, a customer asking for a person...).
ALTER TABLE ticket ADD COLUMN priority_reason text,
                   ADD COLUMN handoff_reason text,
                   ADD COLUMN handoff_at timestamptz;
