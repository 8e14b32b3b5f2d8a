/* atende, the lead's dashboard: KPIs from GET /v1/kpis?by= (rollups of the
 * ticket facts), the desk's backlog from GET /v1/teams, charts drawn by
 * Chart.js (Debian's libjs-chart.js, served at vendor/chart.min.js). Signed
 * in with the inbox's session cookie; reads only. Every text from the api
 * goes in with textContent. */
'use strict';

const WORDS = {
  'pt-BR': {
    title: 'Painel da equipe', range: 'Período', d7: '7 dias', d30: '30 dias', d90: '90 dias',
    csv: 'Exportar CSV', inbox: 'Caixa de entrada', by: 'Por', channel: 'canal',
    intent: 'intenção', team: 'equipe', agent: 'agente',
    c_volume: 'Tickets por dia e respondidos automaticamente',
    c_times: 'Primeira resposta e resolução, p50 e p90 (minutos)',
    c_sla: 'Dentro do SLA, por métrica', c_sat: 'CSAT e NPS',
    c_orders: 'Contatos por pedido e taxa de devolução',
    c_backlog: 'Fila por equipe: esperando e espera mais longa (min)',
    tickets: 'Tickets', auto: 'Automáticos',
    auto_split: 'Automáticos: pedido · base de conhecimento · autoatendimento', fr: 'Primeira resposta', res: 'Resolução',
    sla_fr: 'SLA 1ª resposta', sla_nr: 'SLA próxima resposta', sla_res: 'SLA resolução',
    csat: 'CSAT', nps: 'NPS', fcr: 'Resolvido no 1º contato', reopen: 'Reabertos',
    cpo: 'Contatos por pedido', returns: 'Taxa de devolução', waiting: 'Esperando',
    oldest: 'Espera mais longa (min)', key: 'Grupo',
    signin: 'Entre pela caixa de entrada para ver o painel.',
    failed: 'Não foi possível ler os indicadores: ', loaded: 'Atualizado às ',
  },
  en: {
    title: 'Team dashboard', range: 'Range', d7: '7 days', d30: '30 days', d90: '90 days',
    csv: 'Export CSV', inbox: 'Inbox', by: 'By', channel: 'channel', intent: 'intent',
    team: 'team', agent: 'agent',
    c_volume: 'Tickets per day and answered automatically',
    c_times: 'First response and resolution, p50 and p90 (minutes)',
    c_sla: 'Within SLA, by metric', c_sat: 'CSAT and NPS',
    c_orders: 'Contacts per order and return rate',
    c_backlog: 'Queue by team: waiting and longest wait (min)',
    tickets: 'Tickets', auto: 'Automatic',
    auto_split: 'Automatic: order status · knowledge base · self-service', fr: 'First response', res: 'Resolution',
    sla_fr: 'SLA first response', sla_nr: 'SLA next response', sla_res: 'SLA resolution',
    csat: 'CSAT', nps: 'NPS', fcr: 'First-contact resolution', reopen: 'Reopened',
    cpo: 'Contacts per order', returns: 'Return rate', waiting: 'Waiting',
    oldest: 'Longest wait (min)', key: 'Group',
    signin: 'Sign in through the inbox to see the dashboard.',
    failed: 'Could not read the KPIs: ', loaded: 'Updated at ',
  },
};

const state = { lang: localStorage.getItem('atende.lang') || 'pt-BR', charts: {} };
const $ = (id) => document.getElementById(id);
const t = (key) => (WORDS[state.lang] || WORDS['pt-BR'])[key] || key;

function translate () {
  document.documentElement.lang = state.lang;
  document.title = 'atende: ' + t('title');
  for (const el of document.querySelectorAll('[data-i18n]'))
    el.textContent = t(el.dataset.i18n);
  $('lang').textContent = state.lang === 'en' ? 'PT' : 'EN';
}

async function getJson (path) {
  const r = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (r.status === 401) {
    const e = new Error('401');
    e.signin = true;
    throw e;
  }
  if (!r.ok)
    throw new Error(r.status + ' ' + path);
  return r.json();
}

/* The last N days in this browser's time zone, up to the end of today: the
 * days of by=day are its dates (tz), not UTC's. */
function rangeQuery () {
  const days = Number($('range').value);
  const until = new Date();
  until.setHours(24, 0, 0, 0);
  const since = new Date(until);
  since.setDate(since.getDate() - days);
  const iso = (d) => d.toISOString().slice(0, 19) + 'Z';
  let tz = 'UTC';
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch (e) { tz = 'UTC'; }
  return 'since=' + iso(since) + '&until=' + iso(until) + '&tz=' + encodeURIComponent(tz);
}

const pct = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
const minutes = (v) => (v === null || v === undefined ? null : Math.round(v / 0.6) / 100);
const show = (v, unit) => (v === null || v === undefined ? '–' : v + (unit || ''));
/* A duration in seconds as a person reads it: 45 s, 12 min, 3.5 h, 2.1 d. */
const span = (v) => {
  if (v === null || v === undefined) return '–';
  if (v < 90) return Math.round(v) + ' s';
  if (v < 5400) return Math.round(v / 60) + ' min';
  if (v < 172800) return Math.round(v / 360) / 10 + ' h';
  return Math.round(v / 8640) / 10 + ' d';
};
const COLORS = ['#1f6fb2', '#e07b00', '#2a9d5c', '#c0392b', '#7d4cb3', '#8c6d1f'];

/* The whole range's figures (one by=all group) for the tiles. */
function totals (groups) {
  const sum = (f) => groups.reduce((a, g) => a + (f(g) || 0), 0);
  const ratio = (n, d) => (d > 0 ? n / d : null);
  const met = (m) => sum((g) => g.sla[m].met), brk = (m) => sum((g) => g.sla[m].breached);
  return {
    tickets: sum((g) => g.tickets),
    auto: ratio(sum((g) => g.auto_answered.tickets), sum((g) => g.tickets)),
    sla_fr: ratio(met('first_response'), met('first_response') + brk('first_response')),
    sla_nr: ratio(met('next_response'), met('next_response') + brk('next_response')),
    sla_res: ratio(met('resolution'), met('resolution') + brk('resolution')),
    csat: ratio(sum((g) => g.csat.satisfied), sum((g) => g.csat.answers)),
    nps: ratio(100 * (sum((g) => g.nps && g.nps.promoters) - sum((g) => g.nps && g.nps.detractors)),
      sum((g) => g.nps && g.nps.answers)),
    fcr: ratio(sum((g) => g.fcr.first_contact), sum((g) => g.fcr.resolved_by_people)),
    reopen: ratio(sum((g) => g.reopen.reopened), sum((g) => g.reopen.resolved)),
    cpo: ratio(sum((g) => g.tickets), sum((g) => g.orders && g.orders.placed)),
    returns: ratio(sum((g) => g.orders && g.orders.returned), sum((g) => g.orders && g.orders.delivered)),
  };
}

/* The tickets answered automatically, by what answered them: the live
 * order (order_status), the knowledge base (product questions and the
 * rest), self-service (returns, cancellations, payment copies). */
function automatic (groups) {
  const kinds = { order_status: 'wismo', product_question: 'kb', other: 'kb', return_refund: 'self',
    cancel: 'self', payment: 'self' };
  const out = { wismo: 0, kb: 0, self: 0 };
  for (const g of groups) {
    const k = kinds[g.key];
    if (k) out[k] += g.auto_answered.tickets;
  }
  return out;
}

function tiles (all, sum, auto) {
  const box = $('tiles');
  box.replaceChildren();
  const add = (key, value) => {
    const d = document.createElement('div');
    d.className = 'tile';
    const v = document.createElement('strong');
    v.textContent = value;
    const l = document.createElement('span');
    l.textContent = t(key);
    d.append(v, l);
    box.append(d);
  };
  const a = all || { first_response_seconds: {}, resolution_seconds: {} };
  add('tickets', String(sum.tickets));
  add('auto', show(pct(sum.auto), '%'));
  add('auto_split', auto.wismo + ' · ' + auto.kb + ' · ' + auto.self);
  add('fr', 'p50 ' + span(a.first_response_seconds.p50) + ' · p90 ' + span(a.first_response_seconds.p90));
  add('res', 'p50 ' + span(a.resolution_seconds.p50) + ' · p90 ' + span(a.resolution_seconds.p90));
  add('sla_fr', show(pct(sum.sla_fr), '%'));
  add('sla_res', show(pct(sum.sla_res), '%'));
  add('csat', show(pct(sum.csat), '%'));
  add('nps', show(sum.nps === null ? null : Math.round(sum.nps)));
  add('fcr', show(pct(sum.fcr), '%'));
  add('reopen', show(pct(sum.reopen), '%'));
  add('cpo', show(sum.cpo === null ? null : Math.round(sum.cpo * 100) / 100));
  add('returns', show(pct(sum.returns), '%'));
}

function draw (id, type, labels, datasets, options) {
  if (state.charts[id])
    state.charts[id].destroy();
  datasets.forEach((d, i) => {
    d.borderColor = COLORS[i % COLORS.length];
    d.backgroundColor = d.type === 'bar' ? COLORS[i % COLORS.length] + '99' : COLORS[i % COLORS.length];
  });
  state.charts[id] = new Chart($(id), {
    type, data: { labels, datasets },
    options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: 'index', intersect: false } }, options || {}),
  });
}

const line = (label, data, axis) => ({ type: 'line', label, data, yAxisID: axis || 'y', spanGaps: true, tension: 0.2 });
const bar = (label, data, axis) => ({ type: 'bar', label, data, yAxisID: axis || 'y' });
const twoAxes = { scales: { y: { beginAtZero: true }, y2: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } } } };

function dayCharts (groups) {
  const days = groups.map((g) => g.key.slice(0, 10));
  draw('c-volume', 'bar', days, [bar(t('tickets'), groups.map((g) => g.tickets)),
    line(t('auto') + ' %', groups.map((g) => pct(g.auto_answered.share)), 'y2')], twoAxes);
  draw('c-times', 'line', days, [
    line(t('fr') + ' p50', groups.map((g) => minutes(g.first_response_seconds.p50))),
    line(t('fr') + ' p90', groups.map((g) => minutes(g.first_response_seconds.p90))),
    line(t('res') + ' p50', groups.map((g) => minutes(g.resolution_seconds.p50))),
    line(t('res') + ' p90', groups.map((g) => minutes(g.resolution_seconds.p90)))]);
  draw('c-sla', 'line', days, [
    line(t('sla_fr') + ' %', groups.map((g) => pct(g.sla.first_response.hit_rate))),
    line(t('sla_nr') + ' %', groups.map((g) => pct(g.sla.next_response.hit_rate))),
    line(t('sla_res') + ' %', groups.map((g) => pct(g.sla.resolution.hit_rate)))],
  { scales: { y: { min: 0, max: 100 } } });
  draw('c-sat', 'line', days, [line(t('csat') + ' %', groups.map((g) => pct(g.csat.share))),
    line(t('nps'), groups.map((g) => (g.nps ? g.nps.score : null)), 'y2')],
  { scales: { y: { min: 0, max: 100 }, y2: { min: -100, max: 100, position: 'right', grid: { drawOnChartArea: false } } } });
  draw('c-orders', 'line', days, [
    line(t('cpo'), groups.map((g) => (g.orders ? g.orders.contacts_per_order : null))),
    line(t('returns') + ' %', groups.map((g) => (g.orders ? pct(g.orders.return_rate) : null)), 'y2')], twoAxes);
}

function backlog (teams) {
  const names = teams.map((x) => x.name);
  draw('c-backlog', 'bar', names, [bar(t('waiting'), teams.map((x) => x.waiting)),
    bar(t('oldest'), teams.map((x) => (x.oldest_waiting_s ? Math.round(x.oldest_waiting_s / 6) / 10 : 0)), 'y2')], twoAxes);
}

function dimension (groups) {
  const label = (g) => (g.name || g.key || '–');
  draw('c-dim', 'bar', groups.map(label), [bar(t('tickets'), groups.map((g) => g.tickets)),
    line(t('fr') + ' p90 (min)', groups.map((g) => minutes(g.first_response_seconds.p90)), 'y2')], twoAxes);
  const head = ['key', 'tickets', 'auto', 'fr', 'sla_fr', 'csat', 'fcr', 'reopen'];
  const tr = document.createElement('tr');
  for (const h of head) {
    const th = document.createElement('th');
    th.textContent = t(h);
    tr.append(th);
  }
  $('t-dim').tHead.replaceChildren(tr);
  const body = $('t-dim').tBodies[0];
  body.replaceChildren();
  for (const g of groups) {
    const row = document.createElement('tr');
    const cells = [label(g), String(g.tickets), show(pct(g.auto_answered.share), '%'),
      span(g.first_response_seconds.p50) + ' / ' + span(g.first_response_seconds.p90),
      show(pct(g.sla.first_response.hit_rate), '%'), show(pct(g.csat.share), '%'),
      show(pct(g.fcr.rate), '%'), show(pct(g.reopen.rate), '%')];
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      row.append(td);
    }
    body.append(row);
  }
}

async function load () {
  const q = rangeQuery();
  $('csv').href = '/v1/kpis/facts.csv?' + q;
  try {
    const [whole, days, teams, byDim, byIntent] = await Promise.all([
      getJson('/v1/kpis?by=all&' + q), getJson('/v1/kpis?by=day&' + q), getJson('/v1/teams'),
      getJson('/v1/kpis?by=' + encodeURIComponent($('dim').value) + '&' + q),
      getJson('/v1/kpis?by=intent&' + q)]);
    const all = whole.groups[0] || null;
    tiles(all, totals(all ? [all] : []), automatic(byIntent.groups));
    dayCharts(days.groups);
    backlog(teams.items || []);
    dimension(byDim.groups);
    $('status').textContent = t('loaded') + new Date().toLocaleTimeString(state.lang);
  } catch (e) {
    $('status').textContent = e.signin ? t('signin') : t('failed') + e.message;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  translate();
  $('lang').addEventListener('click', () => {
    state.lang = state.lang === 'en' ? 'pt-BR' : 'en';
    localStorage.setItem('atende.lang', state.lang);
    translate();
    load();
  });
  $('range').addEventListener('change', load);
  $('dim').addEventListener('change', load);
  load();
  setInterval(load, 60000);
});
