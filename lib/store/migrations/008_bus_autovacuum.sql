-- atende store, version 8: the bus table is a queue: rows are inserted and deleted all day,
-- and what stays is small unless a stage holds a backlog (surveys waiting hours, a stage
-- without workers). PostgreSQL's defaults vacuum a table after 20% of it is dead, so beside
-- a 1M-row backlog 200k dead rows of the busy stages would pile up in its indexes first and
-- every scan of those stages would step over them. Vacuum and analyze it by count instead,
-- without throttling. (Operators: a short autovacuum_naptime, e.g. 10s, on the bus's
-- database helps the same way; see deploy/RUNBOOK.md.)
ALTER TABLE bus_message SET (
  autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000,
  autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 100000,
  autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000,
  autovacuum_vacuum_cost_delay = 0);
