'use strict';
// One peer of atende's bus, measured the way bench_bus measures the bus:
// the workers are up and idle; the clock starts at the first enqueue and
// stops when every job is done (its effect row committed and the queue
// holding no job left to run). Enqueueing runs at the same time as the
// processing, from --publishers connections adding --batch jobs per call
// (bench_bus: 4 publishers, 100 messages per publish), over --keys keys.
// A warm-up of --warmup jobs runs first and is not counted (bench_bus: 5,000).
//
//   node peers.js --system graphile|pgboss|floor --host PGSOCKETDIR --db NAME
//                 [--jobs N] [--keys K] [--publishers P] [--batch B] [--warmup W]
//
// The workers run in a child process (node peers.js ... --work), so that
// enqueueing and processing do not share one event loop, as bench_bus's
// publishers do not share the broker's. Prints one line:
//   RESULT system=... version=... jobs=N seconds=S jobs_s=R enqueue_s=E settings="..."
const { fork } = require('child_process');
const path = require('path');

const SYSTEMS = {
  graphile: './systems/graphile',
  pgboss: './systems/pgboss',
  floor: './systems/floor',
};

function s_args(argv) {
  const opt = {
    system: null, host: null, db: null, jobs: 100000, keys: 1000,
    publishers: 4, batch: 100, warmup: 5000, work: false,
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--work') { opt.work = true; continue; }
    const name = a.replace(/^--/, '');
    if (!a.startsWith('--') || !(name in opt) || i + 1 >= argv.length) {
      throw new Error(`peers.js: unknown or incomplete argument '${a}'`);
    }
    const v = argv[++i];
    opt[name] = typeof opt[name] === 'number' ? Number(v) : v;
  }
  if (!SYSTEMS[opt.system] || !opt.host || !opt.db) {
    throw new Error('usage: node peers.js --system graphile|pgboss|floor --host PGSOCKETDIR --db NAME'
      + ' [--jobs N] [--keys K] [--publishers P] [--batch B] [--warmup W]');
  }
  for (const k of ['jobs', 'keys', 'publishers', 'batch', 'warmup']) {
    if (!Number.isInteger(opt[k]) || opt[k] < (k === 'warmup' ? 0 : 1)) {
      throw new Error(`peers.js: --${k} must be a positive integer`);
    }
  }
  opt.conn = `postgresql://postgres@/${opt.db}?host=${opt.host}`;
  return opt;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The jobs' payloads: a key among opt.keys and the same text bench_bus's
// inbound messages carry.
function s_payloads(opt, from, n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const seq = from + i;
    out[i] = { key: `chat:bench-${seq % opt.keys}`, seq,
      text: 'Oi! Quero saber quando chega o meu pedido, por favor.' };
  }
  return out;
}

// Adds n jobs numbered from `from` with opt.publishers concurrent callers.
async function s_enqueue(sys, pub, opt, from, n) {
  let next = 0;
  const one = async () => {
    while (next < n) {
      const k = Math.min(opt.batch, n - next);
      const at = next;
      next += k;
      await sys.enqueue(pub, s_payloads(opt, from + at, k));
    }
  };
  await Promise.all(Array.from({ length: opt.publishers }, one));
}

// The child: the system's workers, reporting how many effects they committed.
async function s_work(sys, opt) {
  let done = 0;
  let sent = -1;
  const worker = await sys.work(opt, (n) => { done += n; });
  const tick = setInterval(() => {
    if (done !== sent) { sent = done; process.send({ done }); }
  }, 20);
  process.on('disconnect', () => process.exit(1));   // the driver is gone
  process.send({ ready: true });
  process.on('message', async (m) => {
    if (m && m.stop) {
      clearInterval(tick);
      await worker.stop();
      process.exit(0);
    }
  });
}

// Waits until the workers have committed `target` effects and the queue
// holds nothing left to run; fails if nothing moves for 60 s.
async function s_wait_done(sys, pub, workers, target, t0) {
  let last = -1;
  let moved = Date.now();
  let shown = 0;
  for (;;) {
    const done = workers.done();
    if (process.env.PEERS_DEBUG && Date.now() - shown >= 250) {   // progress, for tuning
      shown = Date.now();
      console.error(`${new Date().toISOString()} effects ${done} of ${target}, pending ${await sys.pending(pub)}`);
    }
    if (done >= target && t0 && !workers.effectsAt) workers.effectsAt = process.hrtime.bigint();
    if (done >= target && (await sys.pending(pub)) === 0) return;
    if (workers.exited !== null) throw new Error(`a worker process exited (${workers.exited})`);
    if (done !== last) { last = done; moved = Date.now(); }
    if (Date.now() - moved > 60000) {
      throw new Error(`stuck at ${done} of ${target} effects for 60 s`);
    }
    await sleep(done >= target ? 5 : 20);
  }
}

// Starts the system's worker processes (sys.processes(), 1 unless set);
// resolves once all are ready.
async function s_workers_start(sys) {
  const n = sys.processes ? sys.processes() : 1;
  const children = [];
  const workers = { exited: null, children, done: () => children.reduce((a, c) => a + c.done, 0) };
  const ready = [];
  for (let i = 0; i < n; i++) {
    const child = fork(__filename, [...process.argv.slice(2), '--work'], { stdio: 'inherit' });
    child.done = 0;
    child.running = true;
    children.push(child);
    ready.push(new Promise((resolve, reject) => {
      child.on('message', (m) => {
        if (m.ready) resolve();
        if (typeof m.done === 'number') child.done = m.done;
      });
      child.on('exit', (code) => {
        child.running = false;
        workers.exited = code;
        reject(new Error(`a worker process exited (${code}) before it was ready`));
      });
    }));
  }
  try {
    await Promise.all(ready);
  } catch (err) {
    await s_workers_stop(workers);
    throw err;
  }
  return workers;
}

async function s_workers_stop(workers) {
  await Promise.all(workers.children.filter((c) => c.running).map(async (child) => {
    const gone = new Promise((r) => child.once('exit', r));
    child.send({ stop: true });
    const t = setTimeout(() => child.kill('SIGKILL'), 10000);
    await gone;
    clearTimeout(t);
  }));
}

async function s_drive(sys, opt) {
  const pub = await sys.setup(opt);
  let workers = null;
  try {
    workers = await s_workers_start(sys);
    if (opt.warmup > 0) {
      await s_enqueue(sys, pub, opt, 0, opt.warmup);
      await s_wait_done(sys, pub, workers, opt.warmup);
    }
    const t0 = process.hrtime.bigint();
    const enqueued = s_enqueue(sys, pub, opt, opt.warmup, opt.jobs).then(() => process.hrtime.bigint());
    await s_wait_done(sys, pub, workers, opt.warmup + opt.jobs, t0);
    const t1 = process.hrtime.bigint();
    const tEnq = await enqueued;
    const effects = await sys.effects(pub);
    if (effects !== opt.warmup + opt.jobs) {
      throw new Error(`${effects} effect rows for ${opt.warmup + opt.jobs} jobs`);
    }
    const secs = Number(t1 - t0) / 1e9;
    const enqSecs = Number(tEnq - t0) / 1e9;
    const effSecs = Number(workers.effectsAt - t0) / 1e9;
    console.log(`${opt.system}: ${opt.jobs} jobs over ${opt.keys} keys, ${opt.publishers} publishers`
      + ` x ${opt.batch} per call: enqueue ${(opt.jobs / enqSecs).toFixed(0)} jobs/s,`
      + ` first enqueue -> last effect row ${effSecs.toFixed(2)} s,`
      + ` -> last job done ${secs.toFixed(2)} s, ${(opt.jobs / secs).toFixed(0)} jobs/s;`
      + ` ${effects} effect rows (warm-up ${opt.warmup} included)`);
    console.log(`RESULT system=${opt.system} version="${sys.version}" jobs=${opt.jobs}`
      + ` seconds=${secs.toFixed(2)} jobs_s=${(opt.jobs / secs).toFixed(0)}`
      + ` enqueue_s=${(opt.jobs / enqSecs).toFixed(0)} effects_seconds=${effSecs.toFixed(2)} settings="${sys.settings(opt)}"`);
  } finally {
    if (workers) await s_workers_stop(workers);
    await sys.close(pub);
  }
}

async function main() {
  const opt = s_args(process.argv);
  const sys = require(path.join(__dirname, SYSTEMS[opt.system]));
  if (opt.work) await s_work(sys, opt);
  else await s_drive(sys, opt);
}

main().catch((err) => {
  console.error(`peers.js: ${err.message}`);
  process.exit(1);
});
