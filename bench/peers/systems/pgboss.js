'use strict';
// pg-boss: jobs added with boss.insert([...]) (one statement per batch), run
// by `work()` loops in one process, each fetching batchSize jobs per poll
// and handing them to the handler as an array (pg-boss 10 replaced teamSize
// and teamConcurrency by batchSize and more work() calls); the handler adds
// the batch's effect rows in one INSERT and pg-boss completes the batch in
// one statement. pollingIntervalSeconds is at pg-boss's minimum, 0.5: a loop
// that found jobs waits out the rest of the interval before fetching again.
const PgBoss = require('pg-boss');
const { setting, version } = require('./common');

const QUEUE = 'effect';
const cfg = () => ({
  processes: setting('PEERS_PGBOSS_PROCESSES', 1, { min: 1 }),
  workers: setting('PEERS_PGBOSS_WORKERS', 8, { min: 1 }),
  batchSize: setting('PEERS_PGBOSS_BATCH', 1000, { min: 1 }),
  polling: setting('PEERS_PGBOSS_POLL_S', 0.5, { min: 0.5, real: true }),
});

const EFFECT = 'INSERT INTO pgb_effect (job_id) SELECT unnest($1::uuid[])';

function s_boss(opt, max, worker) {
  const boss = new PgBoss({
    connectionString: opt.conn, max, schedule: false,
    supervise: worker,        // maintenance runs in the worker process, as deployed
    migrate: !worker,
  });
  boss.on('error', (err) => console.error(`pg-boss error: ${err.message}`));
  return boss;
}

module.exports = {
  version: version('pg-boss'),
  processes: () => cfg().processes,

  settings(opt) {
    const c = cfg();
    return `${c.processes} worker process${c.processes > 1 ? 'es, each' : ''}: ${c.workers} work() loops, batchSize ${c.batchSize},`
      + ` pollingIntervalSeconds ${c.polling}, pool max ${c.workers + 2}, standard queue,`
      + ` default retries; insert(), ${opt.publishers} publishers x ${opt.batch}`;
  },

  async setup(opt) {
    const boss = s_boss(opt, opt.publishers + 1, false);
    await boss.start();
    await boss.createQueue(QUEUE);
    await boss.getDb().executeSql('CREATE TABLE IF NOT EXISTS pgb_effect'
      + ' (job_id uuid PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())', []);
    return boss;
  },

  async enqueue(boss, payloads) {
    await boss.insert(payloads.map((p) => ({ name: QUEUE, data: p })));
  },

  async pending(boss) {
    const { rows } = await boss.getDb().executeSql('SELECT count(*)::int AS n FROM pgboss.job'
      + ' WHERE name = $1 AND state < \'completed\'', [QUEUE]);
    return rows[0].n;
  },

  async effects(boss) {
    const { rows } = await boss.getDb().executeSql('SELECT count(*)::int AS n FROM pgb_effect', []);
    return rows[0].n;
  },

  async close(boss) {
    await boss.stop({ graceful: false, wait: true });
  },

  async work(opt, onDone) {
    const c = cfg();
    const boss = s_boss(opt, c.workers + 2, true);
    await boss.start();
    const db = boss.getDb();
    for (let i = 0; i < c.workers; i++) {
      await boss.work(QUEUE, { batchSize: c.batchSize, pollingIntervalSeconds: c.polling }, async (jobs) => {
        await db.executeSql(EFFECT, [jobs.map((j) => j.id)]);
        onDone(jobs.length);
      });
    }
    return { stop: () => boss.stop({ graceful: true, wait: true, timeout: 10000 }) };
  },
};
