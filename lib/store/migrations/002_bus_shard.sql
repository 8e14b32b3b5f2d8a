-- atende store, version 2: bus sharding across brokers (proto/README.md, "Sharding").
-- shard = FNV-1a 32 of the message key mod ATENDE_BROKER_COUNT, filled by whoever
-- inserts the row (broker publish, worker produce); broker i sweeps only shard i.
ALTER TABLE bus_message ADD COLUMN shard int NOT NULL DEFAULT 0;
DROP INDEX IF EXISTS bus_message_ready;
CREATE INDEX bus_message_ready ON bus_message (stage, shard, not_before, id);
