'use strict';
// The plain-SQL floor: no library, a table of jobs and clients looping one
// statement that claims up to `claim` jobs (SKIP LOCKED), deletes them and
// adds their effect rows, in one transaction. What PostgreSQL alone does
// with the same jobs, the same effect and the same durability.
const { Pool } = require('pg');
const { setting } = require('./common');

const cfg = () => ({
  clients: setting('PEERS_FLOOR_CLIENTS', 4, { min: 1 }),
  claim: setting('PEERS_FLOOR_CLAIM', 100, { min: 1 }),
});

// `id = ANY (ARRAY (...))` and not `id IN (...)`: ARRAY makes the locking
// subquery an init plan, run once per statement; with IN, a plan made while
// the table looked empty can run it again for every row of an outer scan
// (seen here: claims running for minutes, every remaining job locked by them).
const CLAIM = 'WITH j AS (DELETE FROM floor_job WHERE id = ANY (ARRAY (SELECT id FROM floor_job'
  + ' ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)) RETURNING id)'
  + ' INSERT INTO floor_effect (id) SELECT id FROM j';
const ADD = 'INSERT INTO floor_job (key, payload) SELECT p->>\'key\', p FROM unnest($1::jsonb[]) p';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = {
  version: `PostgreSQL ${process.env.PEERS_PG_VERSION || ''}`.trim(),

  settings(opt) {
    const c = cfg();
    return `${c.clients} clients looping DELETE ... = ANY (ARRAY (... LIMIT ${c.claim} FOR UPDATE SKIP LOCKED))`
      + ` + INSERT of the effects in one statement (1 ms nap when empty); INSERT ... unnest,`
      + ` ${opt.publishers} publishers x ${opt.batch}`;
  },

  async setup(opt) {
    const pool = new Pool({ connectionString: opt.conn, max: opt.publishers + 1 });
    await pool.query('CREATE TABLE IF NOT EXISTS floor_job (id bigserial PRIMARY KEY,'
      + ' key text NOT NULL, payload jsonb NOT NULL)');
    await pool.query('CREATE TABLE IF NOT EXISTS floor_effect (id bigint PRIMARY KEY,'
      + ' at timestamptz NOT NULL DEFAULT now())');
    return pool;
  },

  async enqueue(pool, payloads) {
    await pool.query(ADD, [payloads.map((p) => JSON.stringify(p))]);
  },

  async pending(pool) {
    return (await pool.query('SELECT count(*)::int AS n FROM floor_job')).rows[0].n;
  },

  async effects(pool) {
    return (await pool.query('SELECT count(*)::int AS n FROM floor_effect')).rows[0].n;
  },

  async close(pool) {
    await pool.end();
  },

  async work(opt, onDone) {
    const c = cfg();
    const pool = new Pool({ connectionString: opt.conn, max: c.clients });
    let stopping = false;
    const loop = async () => {
      const client = await pool.connect();
      try {
        while (!stopping) {
          const n = (await client.query({ name: 'claim', text: CLAIM, values: [c.claim] })).rowCount;
          if (n > 0) onDone(n);
          else await sleep(1);
        }
      } finally {
        client.release();
      }
    };
    const loops = Array.from({ length: c.clients }, loop);
    return {
      stop: async () => { stopping = true; await Promise.all(loops); await pool.end(); },
    };
  },
};
