/* atende inbox: the agents' page. Plain JavaScript, no framework, no build step.
 * It signs in (POST /v1/session: the cookie is HttpOnly; the CSRF token stays in
 * this tab's storage and goes with every change as X-CSRF-Token; a reload finds
 * the session again with GET /v1/session), polls the list
 * with its ETag every few seconds (304: nothing moved), shows a ticket (the
 * conversation, notes, SLA clocks counting down, intent and priority with their
 * reasons, the desk, suggested articles and saved replies filled for the
 * customer) and acts on it (reply, note, assign to me, snooze, resolve).
 * Every string from the server goes into the page with textContent, never as
 * HTML: a customer's "<script>" is text. */
'use strict';

(function () {
  const POLL_MS = 3000;
  const VIEWS = ['mine', 'team', 'unassigned', 'breaching'];
  const state = {
    lang: 'pt-BR', csrf: null, me: null, view: 'mine', filters: {},
    etag: null, items: [], selectedId: null, ticketId: null, ticket: null, ticketText: '',
    pollTimer: null, tickTimer: null, busy: false, kbFor: null, ticketEtag: null,
  };

  const $ = (id) => document.getElementById(id);

  /* --- text */

  function t(key, vars) {
    const cat = window.ATENDE_I18N || {};
    const table = cat[state.lang] || cat['pt-BR'] || {};
    let text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
    for (const [k, v] of Object.entries(vars || {})) text = text.split('{' + k + '}').join(String(v));
    return text;
  }

  /* A value the server sends (a status, a priority, an intent) in words, when the
   * catalogue has them; else as it came. */
  function word(kind, value) {
    if (value === undefined || value === null || value === '') return '';
    const key = kind + '.' + value;
    const said = t(key);
    return said === key ? String(value) : said;
  }

  function applyI18n() {
    document.documentElement.lang = state.lang;
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-placeholder]')) {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    }
    document.title = t('app.title');
    $('lang').value = state.lang;
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function toast(text) {
    const box = $('toast');
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  function duration(ms) {
    const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), r = s % 60;
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + m + 'min ' + r + 's';
    if (m) return m + 'min ' + r + 's';
    return r + 's';
  }

  function clockTime(iso) {
    const when = new Date(iso);
    return isNaN(when) ? '' : when.toLocaleString(state.lang);
  }

  /* --- the api */

  async function api(method, path, body, headers) {
    const h = Object.assign({ Accept: 'application/json' }, headers || {});
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.csrf) h['X-CSRF-Token'] = state.csrf;
    const resp = await fetch(path, {
      method, headers: h, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let json = null;
    if (resp.status !== 204 && resp.status !== 304) {
      const text = await resp.text();
      try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    }
    if (resp.status === 401 && path !== '/v1/session') signedOut();
    return { status: resp.status, json, etag: resp.headers.get('ETag') };
  }

  /* --- signing in and out */

  function showSignin() {
    $('signin').hidden = false;
    $('desk').hidden = true;
    $('signout').hidden = true;
    $('kpis').hidden = true;
    $('me').textContent = '';
    $('email').focus();
  }

  /* The CSRF token kept for a reload of this page (the session itself is the
   * HttpOnly cookie, which this script never sees); null forgets it. */
  const CSRF_KEY = 'atende.csrf';
  function remember(token) {
    try {
      if (token) localStorage.setItem(CSRF_KEY, token);
      else localStorage.removeItem(CSRF_KEY);
    } catch (e) { /* private mode: a reload asks to sign in again */ }
  }

  /* After a reload: the session the cookie still holds, if the kept token
   * belongs with it; else the sign-in form. */
  async function resume() {
    let token = null;
    try { token = localStorage.getItem(CSRF_KEY); } catch (e) { token = null; }
    if (!token) return showSignin();
    const r = await api('GET', '/v1/session');
    if (r.status !== 200 || !r.json || r.json.kind !== 'session') {
      remember(null);
      return showSignin();
    }
    state.csrf = token;
    state.me = r.json;
    startDesk();
  }

  function signedOut() {
    remember(null);
    state.csrf = null;
    state.me = null;
    clearInterval(state.pollTimer);
    state.pollTimer = null;
    showSignin();
  }

  async function signIn(ev) {
    ev.preventDefault();
    $('signin-error').textContent = '';
    try {
      const r = await api('POST', '/v1/session', { email: $('email').value, password: $('password').value });
      if (r.status !== 200 || !r.json) {
        $('signin-error').textContent = t(r.status === 401 ? 'signin.failed' : 'signin.error');
        return;
      }
      state.csrf = r.json.csrf_token;
      state.me = r.json;
      remember(state.csrf);
      $('password').value = '';
      startDesk();
    } catch (e) {
      $('signin-error').textContent = t('signin.error');
    }
  }

  async function signOut() {
    await api('DELETE', '/v1/session');
    signedOut();
  }

  function startDesk() {
    $('signin').hidden = true;
    $('desk').hidden = false;
    $('signout').hidden = false;
    $('me').textContent = state.me.name || state.me.email || '';
    $('kpis').hidden = !(state.me.scopes || []).some((s) => s === 'kpis:read' || s === 'admin');
    setView('mine');
    loadTeams().catch(offline);
    if (!$('kpis').hidden) loadKpis().catch(offline);
    state.pollTimer = setInterval(poll, POLL_MS);
  }

  /* --- the list */

  function listPath() {
    const q = new URLSearchParams({ view: state.view, limit: '100' });
    for (const [k, v] of Object.entries(state.filters)) if (v) q.set(k, v);
    return '/v1/tickets?' + q.toString();
  }

  async function loadList() {
    const r = await api('GET', listPath(), undefined, state.etag ? { 'If-None-Match': state.etag } : {});
    if (r.status === 304) return;
    if (r.status !== 200 || !r.json) return;
    state.etag = r.etag;
    state.items = r.json.items || [];
    renderList();
    $('list-state').textContent = t('list.updated', { time: new Date().toLocaleTimeString(state.lang) });
  }

  function dueNode(iso) {
    const span = el('span', 'due');
    if (iso) {
      span.dataset.due = iso;
      tickDue(span);
    }
    return span;
  }

  function tickDue(span) {
    const left = new Date(span.dataset.due).getTime() - Date.now();
    span.textContent = t(left >= 0 ? 'due.in' : 'due.over', { left: duration(left) });
    span.classList.toggle('over', left < 0);
    span.classList.toggle('soon', left >= 0 && left < 15 * 60000);
  }

  function listItem(item) {
    const li = el('li');
    li.tabIndex = -1;
    li.dataset.id = String(item.id);
    li.classList.toggle('selected', item.id === state.selectedId);
    const row1 = el('div', 'row1');
    row1.append(el('span', 'id', '#' + item.id), el('span', 'who', item.customer || item.subject || ''));
    row1.append(el('span', 'badge', item.channel), el('span', 'badge ' + (item.priority || ''), word('priority', item.priority)));
    if (item.intent) row1.append(el('span', 'badge', word('intent', item.intent)));
    if (item.escalated) row1.append(el('span', 'badge high escalated', t('badge.escalated')));
    row1.append(dueNode(item.due_at));
    const row2 = el('div', 'excerpt', item.excerpt || '');
    const row3 = el('div', 'muted', [item.team, item.assignee, word('status', item.status)].filter(Boolean).join(' · '));
    li.append(row1, row2, row3);
    li.addEventListener('click', () => openTicket(item.id));
    return li;
  }

  /* The selected ticket's place in the list (-1: not in it). */
  function selectedIndex() {
    return state.items.findIndex((it) => it.id === state.selectedId);
  }

  function renderList() {
    const list = $('list');
    list.replaceChildren(...state.items.map(listItem));
    $('list-empty').hidden = state.items.length > 0;
  }

  function setView(view) {
    state.view = view;
    state.etag = null;
    for (const b of document.querySelectorAll('#views button')) {
      b.setAttribute('aria-pressed', String(b.dataset.view === view));
    }
    loadList().catch(offline);
  }

  function readFilters() {
    const form = $('filters');
    state.filters = {};
    for (const s of form.querySelectorAll('select')) state.filters[s.name] = s.value;
    state.etag = null;
    loadList().catch(offline);
  }

  function offline() {
    $('list-state').textContent = t('list.offline');
  }

  async function poll() {
    if (!state.csrf || state.busy) return;
    state.busy = true;
    try {
      await loadList();
      if (state.ticketId) await loadTicket(state.ticketId);
      if (!$('kpis').hidden) await loadKpis();
    } catch (e) {
      offline();
    } finally {
      state.busy = false;
    }
  }

  async function loadKpis() {
    const r = await api('GET', '/v1/kpis');
    if (r.status !== 200 || !r.json || !r.json.tickets) return;
    $('kpi-open').textContent = String(r.json.tickets.open);
    $('kpi-resolved').textContent = String(r.json.tickets.resolved);
  }

  /* --- a ticket */

  async function openTicket(id) {
    state.ticketId = id;
    state.selectedId = id;
    state.ticketText = '';
    renderList();
    $('ticket').hidden = false;
    $('desk').classList.add('reading');
    await loadTicket(id);
    $('back').focus();
  }

  function closeTicket() {
    state.ticketId = null;
    state.ticket = null;
    $('ticket').hidden = true;
    $('desk').classList.remove('reading');
    const li = $('list').children[selectedIndex()];
    if (li) li.focus();
  }

  async function loadTicket(id) {
    const same = state.ticketEtag && state.ticket && state.ticket.id === id;
    const r = await api('GET', '/v1/tickets/' + encodeURIComponent(id), undefined,
      same ? { 'If-None-Match': state.ticketEtag } : {});
    if (id !== state.ticketId || r.status === 304) return;
    if (r.status === 404) {
      $('ticket-title').textContent = t('ticket.not_found');
      return;
    }
    if (r.status !== 200 || !r.json) return;
    const text = JSON.stringify(r.json);
    if (text === state.ticketText) return;      /* nothing moved: keep the page as it is */
    state.ticketText = text;
    state.ticketEtag = r.etag;
    state.ticket = r.json;
    renderTicket(r.json);
  }

  function metaRow(dl, label, value) {
    if (value === undefined || value === null || value === '') return;
    dl.append(el('dt', null, label), el('dd', null, value));
  }

  function renderMeta(tk) {
    const dl = $('ticket-meta');
    dl.replaceChildren();
    metaRow(dl, t('ticket.channel'), tk.channel);
    metaRow(dl, t('ticket.status'), word('status', tk.status));
    metaRow(dl, t('ticket.priority'), word('priority', tk.priority));
    if ((tk.priority_reasons || []).length) {
      metaRow(dl, t('ticket.reasons'), tk.priority_reasons.map((r) => word('reason', r)).join(', '));
    }
    if (tk.intent) {
      const pct = typeof tk.intent_confidence === 'number' ? Math.round(tk.intent_confidence * 100) : null;
      metaRow(dl, t('ticket.intent'), word('intent', tk.intent) + (pct === null ? '' : ' (' + t('ticket.confidence', { pct }) + ')'));
    }
    if (tk.desk) {
      metaRow(dl, t('ticket.team'), tk.desk.team + ' · ' + word('desk', tk.desk.state));
      metaRow(dl, t('ticket.assignee'), tk.desk.assignee ? tk.desk.assignee.name : t('ticket.nobody'));
    }
    if (tk.snoozed_until) metaRow(dl, t('ticket.snoozed'), clockTime(tk.snoozed_until));
    const esc = tk.escalations || [];
    if (esc.length) {
      const last = esc[esc.length - 1];
      metaRow(dl, t('ticket.escalated'), [last.rule, clockTime(last.created_at)].filter(Boolean).join(' · '));
    }
  }

  function renderClocks(clocks) {
    const ul = $('clocks');
    ul.replaceChildren();
    if (!clocks || !clocks.length) ul.append(el('li', 'muted', t('ticket.no_clocks')));
    for (const c of clocks || []) {
      const li = el('li', c.state);
      li.append(el('strong', null, t('clock.' + c.metric) + ': '));
      const v = el('span', 'clock-left');
      if (c.state === 'running' && c.due_at) v.dataset.due = c.due_at;
      else v.textContent = t('clock.' + c.state);
      li.append(v);
      ul.append(li);
    }
    tickClocks();
  }

  function tickClocks() {
    for (const v of document.querySelectorAll('#clocks .clock-left[data-due]')) {
      const left = new Date(v.dataset.due).getTime() - Date.now();
      v.textContent = t(left >= 0 ? 'clock.running' : 'clock.overdue', { left: duration(left) });
      v.parentElement.classList.toggle('over', left < 0);
    }
    for (const span of document.querySelectorAll('#list .due[data-due]')) tickDue(span);
  }

  function messageItem(m) {
    const li = el('li', m.direction === 'out' ? 'out' : 'in');
    const who = m.agent ? m.agent : t('author.' + (m.author || 'customer'));
    const channel = m.channel || (state.ticket ? state.ticket.channel : '');
    li.append(el('div', 'msg-head', [who, channel, clockTime(m.created_at)].filter(Boolean).join(' · ')));
    li.append(el('p', 'msg-body', m.body));
    return li;
  }

  function noteItem(n) {
    const li = el('li');
    li.append(el('div', 'msg-head', [t('author.note'), n.author, clockTime(n.created_at)].join(' · ')));
    li.append(el('p', 'msg-body', n.body));
    return li;
  }

  function renderTicket(tk) {
    $('ticket-title').textContent = t('ticket.title', { id: tk.id });
    renderMeta(tk);
    renderClocks(tk.sla);
    $('messages').replaceChildren(...(tk.messages || []).map(messageItem));
    const notes = tk.notes || [];
    $('notes').replaceChildren(...(notes.length ? notes.map(noteItem) : [el('li', 'muted', t('ticket.no_notes'))]));
    renderCustomer(tk.customer);
    if (state.kbFor !== tk.id) {
      loadKb(tk).catch(offline);
      loadReplies(tk).catch(offline);
    }
  }

  /* --- beside the ticket: the customer's orders and other tickets, articles */

  function orderItem(o) {
    const li = el('li');
    li.append(el('strong', null, o.id + ' '), el('span', 'badge', word('order', o.status)));
    if (o.expected_delivery) li.append(el('span', null, ' ' + t('order.expected', { date: o.expected_delivery })));
    if (o.delay_days) li.append(el('span', 'late', ' ' + t('order.delay', { days: o.delay_days })));
    if (/^https?:\/\//i.test(o.tracking_url || '')) {
      const a = el('a', null, t('order.tracking'));
      a.href = o.tracking_url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      li.append(' ', a);
    }
    return li;
  }

  function otherTicketItem(o) {
    const li = el('li');
    const open = el('button', 'linklike', '#' + o.id);
    open.type = 'button';
    open.addEventListener('click', () => openTicket(o.id));
    li.append(open, ' ', el('span', 'badge', o.channel), ' ', el('span', 'badge', word('status', o.status)));
    if (o.intent) li.append(' ', el('span', 'badge', word('intent', o.intent)));
    li.append(' ', el('span', 'muted', clockTime(o.created_at)));
    return li;
  }

  function renderCustomer(c) {
    $('customer').hidden = !c;
    if (!c) return;
    $('customer-name').textContent = t('customer.title', { name: c.name || '#' + c.id });
    const orders = c.orders || [], others = c.tickets || [];
    $('orders').replaceChildren(...(orders.length ? orders.map(orderItem) : [el('li', 'muted', t('customer.no_orders'))]));
    $('other-tickets').replaceChildren(...(others.length ? others.map(otherTicketItem)
      : [el('li', 'muted', t('customer.no_tickets'))]));
  }

  /* Articles for the customer's first words, in the ticket's language. */
  async function loadKb(tk) {
    state.kbFor = tk.id;
    const first = (tk.messages || []).find((m) => m.direction === 'in');
    const q = first && first.body ? first.body.slice(0, 200).trim() : '';
    const lang = { pt: 'pt-BR', en: 'en', es: 'es' }[tk.language] || 'pt-BR';
    const list = $('kb');
    list.replaceChildren(el('li', 'muted', t('ticket.no_kb')));
    if (!q) return;
    const r = await api('GET', '/v1/kb/search?' + new URLSearchParams({ q, locale: lang, limit: '3' }).toString());
    if (r.status !== 200 || !r.json || state.kbFor !== tk.id) return;
    const items = (r.json.items || []).slice(0, 3);
    if (items.length) list.replaceChildren(...items.map(kbItem));
  }

  /* Saved replies in the ticket's language, those for its intent first, each
   * filled for this customer and their latest order by the api. */
  async function loadReplies(tk) {
    const locale = { pt: 'pt-BR', en: 'en', es: 'es' }[tk.language] || 'pt-BR';
    const q = new URLSearchParams({ locale, ticket: String(tk.id), limit: '5' });
    if (tk.intent) q.set('intent', tk.intent);
    const list = $('saved-replies');
    list.replaceChildren(el('li', 'muted', t('ticket.no_replies')));
    const r = await api('GET', '/v1/saved-replies?' + q.toString());
    if (r.status !== 200 || !r.json || state.kbFor !== tk.id) return;
    const items = r.json.items || [];
    if (items.length) list.replaceChildren(...items.map(replyItem));
  }

  function replyItem(reply) {
    const li = el('li');
    const text = reply.text || reply.body || '';
    const use = el('button', null, t('ticket.use_reply'));
    use.type = 'button';
    use.addEventListener('click', () => {
      const box = $('compose-text');
      box.value = box.value ? box.value + '\n\n' + text : text;
      state.composeKind = 'reply';
      box.focus();
    });
    li.append(el('strong', null, reply.title), el('p', 'excerpt', text), use);
    return li;
  }

  function kbItem(a) {
    const li = el('li');
    const use = el('button', null, t('ticket.use_article'));
    use.type = 'button';
    use.addEventListener('click', async () => {
      const r = await api('GET', '/v1/kb/articles/' + encodeURIComponent(a.id));
      const body = r.status === 200 && r.json ? r.json.body : a.excerpt;
      const box = $('compose-text');
      box.value = box.value ? box.value + '\n\n' + body : body;
      box.focus();
    });
    li.append(el('strong', null, a.title), el('p', 'excerpt', a.excerpt || ''), use);
    return li;
  }

  /* Where a ticket can go: a team (its queue) or one agent (assigned to them,
   * if online and with room: else the api says why). */
  async function loadTeams() {
    const [teams, agents] = await Promise.all([api('GET', '/v1/teams'), api('GET', '/v1/agents')]);
    if (teams.status !== 200 || !teams.json) return;
    const group = (label, options) => {
      const g = el('optgroup');
      g.label = label;
      g.append(...options);
      return g;
    };
    const option = (value, label) => {
      const o = el('option', null, label);
      o.value = value;
      return o;
    };
    const people = agents.status === 200 && agents.json ? agents.json.items || [] : [];
    $('transfer-team').replaceChildren(
      group(t('transfer.teams'), (teams.json.items || []).map((team) => option('team:' + team.name, team.name))),
      group(t('transfer.agents'), people.map((a) => option('agent:' + a.user_id,
        a.name + (a.presence ? ' (' + word('presence', a.presence) + ')' : '')))));
  }

  /* --- actions */

  async function act(path, body, done, okStatus, doneVars) {
    if (!state.ticketId) return false;
    try {
      const r = await api('POST', '/v1/tickets/' + encodeURIComponent(state.ticketId) + path, body);
      if (r.status !== okStatus) {
        toast(t('error.action', { detail: (r.json && (r.json.detail || r.json.title)) || r.status }));
        return false;
      }
      toast(t(done, doneVars));
      state.etag = null;
      setTimeout(poll, 300);
      return true;
    } catch (e) {
      toast(t('error.action', { detail: String(e && e.message) }));
      return false;
    }
  }

  async function send(kind) {
    const box = $('compose-text');
    const text = box.value.trim();
    if (!text) {
      toast(t('error.empty'));
      box.focus();
      return;
    }
    const ok = kind === 'note'
      ? await act('/notes', { text }, 'done.note', 201)
      : await act('/replies', { text }, 'done.reply', 202);
    if (ok) box.value = '';
    if (ok && kind === 'note') await loadTicket(state.ticketId);
  }

  function assignMe() {
    return act('/assign', { agent_id: state.me.user_id }, 'done.assign', 202);
  }

  function resolve() {
    return act('/resolve', {}, 'done.resolve', 202);
  }

  function transfer() {
    const select = $('transfer-team');
    const value = select.value || '';
    if (value.startsWith('agent:')) {
      const name = select.options[select.selectedIndex].textContent.replace(/ \(.*\)$/, '');
      return act('/assign', { agent_id: Number(value.slice(6)) }, 'done.assign_to', 202, { name });
    }
    return value ? act('/transfer', { team: value.slice(5) }, 'done.transfer', 202) : false;
  }

  /* When a snooze chosen in the page ends, in this browser's time zone: in 1
   * or 4 hours, tomorrow at 9:00, next Monday at 9:00. */
  function snoozeUntil(choice, now) {
    if (choice === '4h') return new Date(now.getTime() + 4 * 3600 * 1000);
    if (choice !== 'tomorrow' && choice !== 'monday') return new Date(now.getTime() + 3600 * 1000);
    const when = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 9, 0, 0);
    while (choice === 'monday' && when.getDay() !== 1) when.setDate(when.getDate() + 1);
    return when;
  }

  function snooze() {
    const when = snoozeUntil($('snooze-for').value, new Date());
    const until = when.toISOString().replace(/\.\d+Z$/, 'Z');
    return act('/snooze', { until }, 'done.snooze', 200, { until: when.toLocaleString(state.lang) });
  }

  /* --- keyboard */

  function move(delta) {
    if (!state.items.length) return;
    const at = Math.min(state.items.length - 1, Math.max(0, selectedIndex() + delta));
    state.selectedId = state.items[at].id;
    renderList();
    const li = $('list').children[at];
    if (li) li.focus();
  }

  function typing(target) {
    return target && (target.tagName === 'TEXTAREA' || target.tagName === 'INPUT' || target.tagName === 'SELECT');
  }

  const KEYS = {
    j: () => move(1), k: () => move(-1),
    Enter: () => { const it = state.items[selectedIndex()] || state.items[0]; if (it) openTicket(it.id); },
    o: () => KEYS.Enter(),
    r: () => { if (state.ticketId) { $('compose-text').focus(); state.composeKind = 'reply'; } },
    n: () => { if (state.ticketId) { $('compose-text').focus(); state.composeKind = 'note'; } },
    a: () => assignMe(), e: () => resolve(), s: () => snooze(),
    t: () => { if (state.ticketId) $('transfer-team').focus(); },
    u: () => closeTicket(), Escape: () => { $('help').hidden = true; closeTicket(); },
    '?': () => { $('help').hidden = !$('help').hidden; },
    1: () => setView(VIEWS[0]), 2: () => setView(VIEWS[1]), 3: () => setView(VIEWS[2]), 4: () => setView(VIEWS[3]),
  };

  function onKey(ev) {
    if (!state.csrf || ev.altKey || ev.metaKey) return;
    if (typing(ev.target)) {
      if (ev.key === 'Enter' && ev.ctrlKey && ev.target.id === 'compose-text') {
        ev.preventDefault();
        send(state.composeKind === 'note' ? 'note' : 'reply');
      } else if (ev.key === 'Escape') {
        ev.target.blur();
      }
      return;
    }
    if (ev.ctrlKey) return;
    const fn = KEYS[ev.key];
    if (!fn) return;
    ev.preventDefault();
    fn();
  }

  /* --- start */

  function wire() {
    $('signin-form').addEventListener('submit', signIn);
    $('signout').addEventListener('click', signOut);
    $('lang').addEventListener('change', () => {
      state.lang = $('lang').value;
      try { localStorage.setItem('atende.lang', state.lang); } catch (e) { /* private mode */ }
      applyI18n();
      renderList();
      if (state.ticket) renderTicket(state.ticket);
    });
    for (const b of document.querySelectorAll('#views button')) {
      b.addEventListener('click', () => setView(b.dataset.view));
    }
    $('filters').addEventListener('change', readFilters);
    $('filters').addEventListener('submit', (ev) => ev.preventDefault());
    $('back').addEventListener('click', closeTicket);
    $('compose').addEventListener('submit', (ev) => { ev.preventDefault(); send('reply'); });
    $('do-note').addEventListener('click', () => send('note'));
    $('do-assign').addEventListener('click', assignMe);
    $('do-resolve').addEventListener('click', resolve);
    $('do-snooze').addEventListener('click', snooze);
    $('transfer').addEventListener('submit', (ev) => { ev.preventDefault(); transfer(); });
    $('help-close').addEventListener('click', () => { $('help').hidden = true; });
    document.addEventListener('keydown', onKey);
  }

  function start() {
    let saved = null;
    try { saved = localStorage.getItem('atende.lang'); } catch (e) { saved = null; }
    state.lang = saved === 'en' || saved === 'pt-BR' ? saved : 'pt-BR';
    applyI18n();
    wire();
    state.tickTimer = setInterval(tickClocks, 1000);
    resume().catch(showSignin);
  }

  start();
}());
