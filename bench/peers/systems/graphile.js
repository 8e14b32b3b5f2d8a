'use strict';
// graphile-worker: jobs added with WorkerUtils.addJobs (one add_jobs call per
// batch), run by run() with the configuration of graphile-worker's own
// performance page (worker.graphile.org/docs/performance): concurrentJobs 24,
// maxPoolSize 25, localQueue.size 500, completeJobBatchDelay 0,
// failJobBatchDelay 0. The task adds one effect row.
const { run, makeWorkerUtils, Logger } = require('graphile-worker');
const { setting, version } = require('./common');

const cfg = () => ({
  processes: setting('PEERS_GW_PROCESSES', 1, { min: 1 }),
  concurrentJobs: setting('PEERS_GW_CONCURRENCY', 24, { min: 1 }),
  maxPoolSize: setting('PEERS_GW_POOL', 25, { min: 1 }),
  localQueue: setting('PEERS_GW_LOCAL_QUEUE', 500, { min: -1 }),
  completeJobBatchDelay: setting('PEERS_GW_COMPLETE_DELAY', 250, { min: -1 }),
  pollInterval: setting('PEERS_GW_POLL_MS', 2000, { min: 1 }),
  queues: setting('PEERS_GW_QUEUES', 0) > 0,   // queue_name = key: one key's jobs in order
});

// warnings and errors only
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`graphile-worker ${level}: ${message}`);
});

const EFFECT = 'INSERT INTO gw_effect (job_id) VALUES ($1)';

module.exports = {
  version: version('graphile-worker'),
  processes: () => cfg().processes,

  settings(opt) {
    const c = cfg();
    return `${c.processes} worker process${c.processes > 1 ? 'es, each' : ''}: concurrentJobs ${c.concurrentJobs}, maxPoolSize ${c.maxPoolSize},`
      + ` localQueue.size ${c.localQueue}, completeJobBatchDelay ${c.completeJobBatchDelay},`
      + ` failJobBatchDelay ${c.completeJobBatchDelay}, pollInterval ${c.pollInterval} ms`
      + `${c.queues ? ', queue_name per key (serial per key)' : ', no queue_name (no order per key)'};`
      + ` addJobs, ${opt.publishers} publishers x ${opt.batch}`;
  },

  async setup(opt) {
    const utils = await makeWorkerUtils({ connectionString: opt.conn, maxPoolSize: opt.publishers + 1, logger });
    await utils.migrate();
    await utils.withPgClient((pg) => pg.query('CREATE TABLE IF NOT EXISTS gw_effect'
      + ' (job_id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())'));
    utils.queues = cfg().queues;
    return utils;
  },

  async enqueue(utils, payloads) {
    await utils.addJobs(payloads.map((p) => (utils.queues
      ? { identifier: 'effect', payload: p, queueName: p.key }
      : { identifier: 'effect', payload: p })));
  },

  async pending(utils) {
    const { rows } = await utils.withPgClient((pg) =>
      pg.query('SELECT count(*)::int AS n FROM graphile_worker.jobs'));
    return rows[0].n;
  },

  async effects(utils) {
    const { rows } = await utils.withPgClient((pg) => pg.query('SELECT count(*)::int AS n FROM gw_effect'));
    return rows[0].n;
  },

  async close(utils) {
    await utils.release();
  },

  async work(opt, onDone) {
    const c = cfg();
    const runner = await run({
      connectionString: opt.conn,
      noHandleSignals: true,
      logger,
      taskList: {
        effect: async (_payload, helpers) => {
          await helpers.query(EFFECT, [helpers.job.id]);
          onDone(1);
        },
      },
      preset: {
        worker: {
          concurrentJobs: c.concurrentJobs,
          maxPoolSize: c.maxPoolSize,
          pollInterval: c.pollInterval,
          localQueue: { size: c.localQueue },
          completeJobBatchDelay: c.completeJobBatchDelay,
          failJobBatchDelay: c.completeJobBatchDelay,
        },
      },
    });
    return { stop: () => runner.stop() };
  },
};
