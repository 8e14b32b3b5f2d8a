-- atende store, version 3: failure history of bus messages and dead letters.
-- errors is a JSON array of {attempt, at, reason}, oldest first, at most the last 20
-- failures; it follows a message from bus_message into bus_dead and back on replay.
ALTER TABLE bus_message ADD COLUMN errors jsonb NOT NULL DEFAULT '[]';
ALTER TABLE bus_dead ADD COLUMN errors jsonb NOT NULL DEFAULT '[]';
ALTER TABLE bus_dead ADD COLUMN replays int NOT NULL DEFAULT 0;
ALTER TABLE bus_message ADD COLUMN replays int NOT NULL DEFAULT 0;
CREATE INDEX bus_dead_stage ON bus_dead (stage, dead_at, id);

-- Appends one failure to a history and keeps the last 20.
CREATE FUNCTION bus_errors_push (history jsonb, attempt int, reason text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce (jsonb_agg (e ORDER BY n), '[]'::jsonb)
  FROM jsonb_array_elements (coalesce (history, '[]'::jsonb)
         || jsonb_build_array (jsonb_build_object ('attempt', attempt,
                                 'at', to_char (now () AT TIME ZONE 'UTC',
                                                'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                 'reason', left (coalesce (reason, 'unknown'), 1000))))
       WITH ORDINALITY AS t (e, n)
  WHERE n > jsonb_array_length (coalesce (history, '[]'::jsonb)) + 1 - 20
$$;
