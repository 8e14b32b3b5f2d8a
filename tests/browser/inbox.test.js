/* The agents' inbox in Debian's chromium, headless, as a person uses it. Node (18 or
 * later) with no npm package: chromium is started with --remote-debugging-pipe and
 * spoken to over the DevTools protocol, NUL-terminated JSON on the child's fds 3
 * (ours to write) and 4 (ours to read). Started by test_inbox_browser.c, which
 * made the stack and the data; the environment says where:
 *   ATENDE_URL        the api (it serves the page)      ATENDE_TICKET  the ticket whose
 *   ATENDE_EMAIL      the agent's sign-in                               message holds
 *   ATENDE_PASSWORD                                                     <script>alert(1)
 *   ATENDE_SHOTS      where the screenshots go           CHROMIUM       the browser (else
 *                                                                       /usr/bin/chromium)
 * Every wait is a poll on a condition with a deadline. Any console error, uncaught
 * exception or dialog (an alert would be the customer's script running) fails it. */
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const WAIT_MS = 30000;
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(name + ' is not set');
  return v;
};

/* --- the DevTools protocol over the pipe */

class Browser {
  constructor(exe, userDir) {
    const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--user-data-dir=' + userDir, '--remote-debugging-pipe', '--no-first-run',
      '--no-default-browser-check', '--disable-extensions', '--disable-background-networking',
      '--disable-sync', '--disable-component-update', '--mute-audio', '--hide-scrollbars',
      '--window-size=1280,900', 'about:blank'];
    this.child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    this.buffer = Buffer.alloc(0);
    this.stderr = '';
    this.exited = null;
    this.child.stdout.on('data', () => {});
    this.child.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000); });
    this.child.on('exit', (code, sig) => {
      this.exited = { code, sig };
      for (const p of this.pending.values()) p.reject(new Error('chromium exited: ' + (sig || code)));
      this.pending.clear();
    });
    this.child.on('error', (e) => { this.exited = { error: e }; });
    this.child.stdio[4].on('data', (chunk) => this.onData(chunk));
  }

  onData(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    let end;
    while ((end = this.buffer.indexOf(0)) >= 0) {
      const text = this.buffer.subarray(0, end).toString('utf8');
      this.buffer = this.buffer.subarray(end + 1);
      const msg = JSON.parse(text);
      if (msg.id && this.pending.has(msg.id)) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(p.method + ': ' + msg.error.message));
        else p.resolve(msg.result);
      } else if (msg.method) {
        for (const fn of this.listeners) fn(msg);
      }
    }
  }

  send(method, params, sessionId) {
    const id = this.nextId++;
    const msg = { id, method, params: params || {} };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.child.stdio[3].write(JSON.stringify(msg) + '\0');
    });
  }

  on(fn) { this.listeners.push(fn); }

  /* Browser.close, then the process's end (SIGKILL after 10 s): its profile
   * directory is only then free to delete. */
  async close() {
    const ended = new Promise((resolve) => {
      if (this.exited) resolve();
      else this.child.once('exit', resolve);
    });
    try { await Promise.race([this.send('Browser.close'), sleepless(5000)]); } catch (e) { /* gone */ }
    await Promise.race([ended, sleepless(10000)]);
    if (!this.exited) {
      this.child.kill('SIGKILL');
      await ended;
    }
  }
}

/* A promise settled by a timer, for a race with a deadline (never a wait by itself). */
function sleepless(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/* --- a page */

class Page {
  constructor(browser, sessionId, shotsDir) {
    this.b = browser;
    this.s = sessionId;
    this.shotsDir = shotsDir;
    this.shots = 0;
    this.errors = [];
  }

  cmd(method, params) { return this.b.send(method, params, this.s); }

  async eval(expression) {
    const r = await this.cmd('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) {
      throw new Error('evaluate failed: ' + expression + ': ' + JSON.stringify(r.exceptionDetails).slice(0, 400));
    }
    return r.result.value;
  }

  /* Polls expression until it is truthy; fails naming what it waited for. */
  async waitFor(what, expression, timeoutMs) {
    const deadline = Date.now() + (timeoutMs || WAIT_MS);
    let last;
    while (Date.now() < deadline) {
      last = await this.eval(expression);
      if (last) return last;
      await sleepless(100);
    }
    throw new Error('timed out waiting for ' + what + ' (' + expression + ' was ' + JSON.stringify(last) + ')');
  }

  async shot(name) {
    const r = await this.cmd('Page.captureScreenshot', { format: 'png' });
    this.shots += 1;
    const file = path.join(this.shotsDir, String(this.shots).padStart(2, '0') + '-' + name + '.png');
    fs.writeFileSync(file, Buffer.from(r.data, 'base64'));
    console.log('screenshot ' + file);
  }

  async type(selector, text) {
    await this.eval('document.querySelector(' + JSON.stringify(selector) + ').focus()');
    await this.cmd('Input.insertText', { text });
  }

  click(selector) {
    return this.eval('(() => { const e = document.querySelector(' + JSON.stringify(selector) +
      '); if (!e) throw new Error("no ' + selector.replace(/"/g, '') + '"); e.click(); return true; })()');
  }

  async key(key, code, keyCode) {
    const base = { key, code, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode };
    await this.cmd('Input.dispatchKeyEvent', Object.assign({ type: 'keyDown', text: key.length === 1 ? key : undefined }, base));
    await this.cmd('Input.dispatchKeyEvent', Object.assign({ type: 'keyUp' }, base));
  }
}

function findChromium() {
  const tried = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  for (const exe of tried) if (fs.existsSync(exe)) return exe;
  throw new Error('chromium is not installed (tried ' + tried.join(', ') + '): the browser test needs' +
    " Debian's chromium: apt-get install chromium (./atende.sh deps installs it)");
}

async function openPage(browser, shotsDir) {
  const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
  const page = new Page(browser, sessionId, shotsDir);
  browser.on((msg) => {
    if (msg.sessionId !== sessionId) return;
    const p = msg.params || {};
    if (msg.method === 'Runtime.exceptionThrown') {
      page.errors.push('uncaught: ' + JSON.stringify(p.exceptionDetails).slice(0, 500));
    } else if (msg.method === 'Log.entryAdded' && p.entry && p.entry.level === 'error') {
      page.errors.push('log: ' + p.entry.source + ': ' + p.entry.text + ' ' + (p.entry.url || ''));
    } else if (msg.method === 'Runtime.consoleAPICalled' && p.type === 'error') {
      page.errors.push('console.error: ' + JSON.stringify(p.args).slice(0, 500));
    } else if (msg.method === 'Page.javascriptDialogOpening') {
      page.errors.push('a dialog opened (a script ran?): ' + p.type + ' ' + p.message);
      page.cmd('Page.handleJavaScriptDialog', { accept: true }).catch(() => {});
    }
  });
  await page.cmd('Runtime.enable');
  await page.cmd('Log.enable');
  await page.cmd('Page.enable');
  await page.cmd('Emulation.setDeviceMetricsOverride', { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
  return page;
}

/* --- what a person does */

const text = (sel) => '((document.querySelector(' + JSON.stringify(sel) + ') || {}).textContent || "")';
/* Shown: in the document and laid out (neither [hidden] nor display: none on the way up). */
const visible = (sel) => '((e) => !!e && e.getClientRects().length > 0)(document.querySelector(' +
  JSON.stringify(sel) + '))';

async function signIn(page, url) {
  await page.cmd('Page.navigate', { url: url + '/' });
  await page.waitFor('the sign-in form', 'document.readyState === "complete" && ' + visible('#signin-form'));
  await page.waitFor('the page in pt-BR', text('#signin-submit') + ' === "Entrar"');
  await page.shot('signin');
  await page.type('#email', env('ATENDE_EMAIL'));
  await page.type('#password', env('ATENDE_PASSWORD'));
  await page.click('#signin-submit');
  await page.waitFor('the desk after signing in', visible('#list'));
}

async function queueAndXss(page, ticket) {
  const item = '#list li[data-id="' + ticket + '"]';
  await page.waitFor('ticket ' + ticket + ' in "my tickets"', '!!document.querySelector(' + JSON.stringify(item) + ')');
  await page.waitFor('the customer\'s <script> shown as text in the list',
    text(item + ' .excerpt') + '.includes("<script>alert(1)</script>")');
  await page.waitFor('the customer\'s name with its <b> as text', text(item + ' .who') + ' === "Bia <b>Souza</b>"');
  await page.shot('queue');
  await page.click(item);
  await page.waitFor('the ticket open', visible('#messages') + ' && document.querySelectorAll("#messages li").length >= 1');
  await page.waitFor('the message with <script> shown as text',
    text('#messages') + '.includes("<script>alert(1)</script><img src=x onerror=\\"window.__xss=1\\">")');
  const created = await page.eval('document.querySelectorAll("#desk script, #desk img, #desk b").length');
  const scripts = await page.eval('document.scripts.length');
  const xss = await page.eval('window.__xss === undefined');
  if (created !== 0 || scripts !== 2 || !xss) {
    throw new Error('a customer string became markup: ' + created + ' elements, ' + scripts + ' scripts, xss ' + !xss);
  }
}

async function ticketView(page) {
  await page.waitFor('the intent and the desk', text('#ticket-meta') + '.includes("Ana Lima")');
  await page.waitFor('the customer\'s order beside the ticket', text('#orders') + '.includes("PED-4471")' +
    ' && !!document.querySelector(\'#orders a[href="https://track.example/BR123"]\')');
  await page.waitFor('the customer\'s name as text beside the ticket', text('#customer-name') + '.includes("Bia <b>Souza</b>")');
  await page.waitFor('the channel of each message', text('#messages .msg-head') + '.includes("chat")');
  await page.waitFor('a team and an agent to transfer to', text('#transfer-team optgroup:first-child') +
    ' === "support" && ' + text('#transfer-team optgroup:last-child') + '.includes("Ana Lima (online)")');
  await page.waitFor('a suggested article', text('#kb') + '.includes("Meu pedido não chegou")');
  await page.click('#kb li button');
  await page.waitFor('the article in the reply box', 'document.getElementById("compose-text").value.includes("Confira o rastreio")');
  await page.eval('document.getElementById("compose-text").value = "", true');
  await page.waitFor('a saved reply filled for the customer', text('#saved-replies') +
    '.includes("Olá, Bia! O pedido PED-4471 está a caminho. Rastreio: https://track.example/BR123")');
  await page.click('#saved-replies li button');
  await page.waitFor('the saved reply in the reply box',
    'document.getElementById("compose-text").value.startsWith("Olá, Bia! O pedido PED-4471")');
  await page.eval('document.getElementById("compose-text").value = "", true');
  const clock = '#clocks .clock-left[data-due]';
  if (await page.eval('!!document.querySelector(' + JSON.stringify(clock) + ')')) {
    const first = await page.eval(text(clock));
    await page.waitFor('the SLA clock counting down', text(clock) + ' !== ' + JSON.stringify(first), 5000);
  }
  await page.shot('ticket');
}

async function noteAndReply(page) {
  await page.type('#compose-text', 'Cliente VIP: conferir o rastreio antes de responder');
  await page.click('#do-note');
  await page.waitFor('the note in the ticket', text('#notes') + '.includes("conferir o rastreio")');
  await page.type('#compose-text', 'Olá Bia! Seu pedido sai hoje; o código de rastreio chega por aqui.');
  await page.click('#do-reply');
  await page.waitFor('the reply acknowledged', text('#toast') + ' === "Resposta enviada ao cliente."');
  await page.waitFor('the reply in the conversation', text('#messages') + '.includes("Seu pedido sai hoje")');
  await page.shot('replied');
}

/* A reload keeps the person signed in (the cookie, and the CSRF token this tab
 * kept): the desk comes back without the form, and the ticket opens again. */
async function reloadSignedIn(page, ticket) {
  await page.cmd('Page.reload', {});
  await page.waitFor('the desk again after a reload', 'document.readyState === "complete" && ' +
    visible('#list') + ' && !' + visible('#signin-form'));
  const item = '#list li[data-id="' + ticket + '"]';
  await page.waitFor('ticket ' + ticket + ' after the reload', '!!document.querySelector(' + JSON.stringify(item) + ')');
  await page.click(item);
  await page.waitFor('the ticket open again', text('#messages') + '.includes("Seu pedido sai hoje")');
}

async function resolveByKeyboard(page, ticket) {
  const kpis = await page.eval(visible('#kpis'));
  let before = null;
  if (kpis) {
    before = Number(await page.waitFor('the KPIs', text('#kpi-resolved') + '.match(/^\\d+$/) && ' + text('#kpi-resolved')));
  }
  await page.eval('document.activeElement && document.activeElement.blur(), true');
  await page.key('e', 'KeyE', 69);
  await page.waitFor('the resolve acknowledged', text('#toast') + ' === "Ticket resolvido."');
  await page.waitFor('the ticket gone from "my tickets"', '!document.querySelector(\'#list li[data-id="' + ticket + '"]\')');
  await page.waitFor('the ticket resolved', text('#ticket-meta') + '.includes("resolvido")');
  if (kpis) {
    await page.waitFor('the resolved KPI up by one', 'Number(' + text('#kpi-resolved') + ') === ' + (before + 1));
  }
  await page.shot('resolved');
}

async function helpLanguagePhone(page) {
  await page.key('?', 'Slash', 191);
  await page.waitFor('the shortcuts', visible('#help'));
  await page.shot('shortcuts');
  await page.key('Escape', 'Escape', 27);
  await page.waitFor('the shortcuts closed', '!' + visible('#help'));
  await page.eval('(() => { const s = document.getElementById("lang"); s.value = "en";' +
    ' s.dispatchEvent(new Event("change")); return true; })()');
  await page.waitFor('the page in English', text('#signout') + ' === "Sign out"');
  await page.shot('english');
  await page.cmd('Emulation.setDeviceMetricsOverride', { width: 390, height: 844, deviceScaleFactor: 2, mobile: true });
  await page.key('u', 'KeyU', 85);
  await page.waitFor('back to the list', '!' + visible('#ticket') + ' && ' + visible('#list'));
  await page.key('2', 'Digit2', 50);
  await page.waitFor('the team view by its key', '!!document.querySelector(\'#views button[data-view="team"][aria-pressed="true"]\')');
  await page.waitFor('the team\'s other ticket, marked escalated', 'document.querySelectorAll("#list li").length >= 1' +
    ' && ' + text('#list') + '.includes("escalated")');
  await page.waitFor('the list laid out for a phone', 'document.documentElement.scrollWidth <= 390');
  await page.shot('phone-list');
  await page.key('j', 'KeyJ', 74);
  await page.waitFor('j selects a ticket', '!!document.querySelector("#list li.selected")');
  await page.key('Enter', 'Enter', 13);
  await page.waitFor('Enter opens it, alone on a phone', visible('#messages') + ' && !' + visible('#list'));
  await page.waitFor('the conversation', 'document.querySelectorAll("#messages li").length >= 1');
  await page.waitFor('the escalation by its rule', text('#ticket-meta') + '.includes("Escalated")' +
    ' && ' + text('#ticket-meta') + '.includes("exchange watch")');
  await page.waitFor('the ticket laid out for a phone', 'document.documentElement.scrollWidth <= 390');
  await page.shot('phone');
  await page.eval('(() => { document.getElementById("snooze-for").value = "tomorrow"; return true; })()');
  await page.click('#do-snooze');
  await page.waitFor('the snooze acknowledged', text('#toast') + '.startsWith("Ticket snoozed until")');
  await page.waitFor('snoozed until tomorrow at 9:00', '(() => { const d = new Date(); d.setDate(d.getDate() + 1);' +
    ' d.setHours(9, 0, 0, 0); return ' + text('#ticket-meta') + '.includes(d.toLocaleString("en")); })()');
}

/* The lead's dashboard in a second tab of the same browser (the session's
 * cookie): Chart.js from Debian draws every chart, the tiles count the
 * tickets, the table has a row per channel, and the page logs no error. */
async function dashboard(browser, shots, url) {
  const page = await openPage(browser, shots);
  page.shots = 9;
  await page.cmd('Page.navigate', { url: url + '/app/dashboard.html' });
  try {
    await dashboardShown(page);
  } catch (e) {
    await page.shot('dashboard-failure').catch(() => {});
    const seen = await page.eval('(async () => { const q = "/v1/kpis?by=all"; const r = await fetch(q); return document.getElementById("status")' +
      '.textContent + " | " + document.getElementById("tiles").textContent + " | " + (await r.text()).slice(0, 800); })()')
      .catch((x) => String(x));
    throw new Error(e.message + '\n  the dashboard showed: ' + seen);
  }
  if (page.errors.length) throw new Error('the dashboard logged errors:\n  ' + page.errors.join('\n  '));
}

async function dashboardShown(page) {
  await page.waitFor('Chart.js loaded', 'typeof window.Chart === "function"');
  await page.waitFor('the KPIs read', text('#status') + '.startsWith("Updated at")' +
    ' || ' + text('#status') + '.startsWith("Atualizado")');
  await page.waitFor('seven charts drawn', 'Object.keys(window.Chart.instances).length === 7');
  await page.waitFor('the tiles', 'document.querySelectorAll("#tiles .tile").length >= 10 && ' +
    'Number(document.querySelector("#tiles .tile strong").textContent) >= 2');
  await page.waitFor('a row per channel', 'document.querySelectorAll("#t-dim tbody tr").length >= 1');
  await page.shot('dashboard');
}

async function main() {
  const url = env('ATENDE_URL');
  const ticket = env('ATENDE_TICKET');
  const shots = env('ATENDE_SHOTS');
  fs.mkdirSync(shots, { recursive: true });
  for (const f of fs.readdirSync(shots)) if (f.endsWith('.png')) fs.unlinkSync(path.join(shots, f));
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atende-chromium-'));
  const browser = new Browser(findChromium(), userDir);
  let page = null;
  try {
    await Promise.race([browser.send('Browser.getVersion').then((v) => console.log('browser ' + v.product)),
      sleepless(WAIT_MS).then(() => { throw new Error('chromium did not answer: ' + browser.stderr); })]);
    page = await openPage(browser, shots);
    await signIn(page, url);
    await queueAndXss(page, ticket);
    await ticketView(page);
    await noteAndReply(page);
    await reloadSignedIn(page, ticket);
    await resolveByKeyboard(page, ticket);
    await helpLanguagePhone(page);
    if (page.errors.length) throw new Error('the page logged errors:\n  ' + page.errors.join('\n  '));
    await dashboard(browser, shots, url);
    console.log('ok: signed in, queue, ticket, <script> as text, saved reply, note, reply, reload, resolve, KPI, shortcuts, en, phone, snooze, dashboard');
  } catch (e) {
    if (page) {
      await page.shot('failure').catch(() => {});
      if (page.errors.length) console.error('page errors:\n  ' + page.errors.join('\n  '));
    }
    throw e;
  } finally {
    await browser.close();
    try {
      fs.rmSync(userDir, { recursive: true, force: true, maxRetries: 5 });
    } catch (e) {
      console.log('warning: ' + userDir + ' not removed: ' + e.message);
    }
  }
}

main().then(() => process.exit(0), (e) => {
  console.error('FAIL: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
