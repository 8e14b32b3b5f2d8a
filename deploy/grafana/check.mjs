// deploy/grafana/check.mjs: proves a Grafana dashboard of deploy/grafana/ against the code,
// offline, with node alone (no packages). deploy/check.sh runs it:
//   node deploy/grafana/check.mjs <dashboard.json>... -- <source dir>...
// The metric families are read from the C sources: the calls
//   at_metrics_counter|gauge|histogram (reg, "name", help..., "label,names" | NULL, ...)
// and, where the name is a table's field (broker/brk_metrics.c: s_stage_families[i].name),
// every "atende_..." first member of that table's entries. A histogram exists in Prometheus
// only as name_bucket (with le), name_sum and name_count; the others under their own name.
// Checked, per dashboard:
//   - JSON parses; schemaVersion, uid, title; the template variables DS_PROMETHEUS
//     (a Prometheus datasource), namespace and stage; every $variable an expr uses is defined
//   - panel ids unique (rows and the panels inside collapsed rows too); every panel has a
//     gridPos; every panel but rows and text has a datasource that is ${DS_PROMETHEUS}, as has
//     each of its targets, and at least one target with an expr
//   - every metric name a query or a variable names is a family the code registers (with
//     _bucket/_sum/_count only on histograms, and a histogram never by its bare name);
//     rate/irate/increase never on a gauge; every label in a selector is one of the family's
//     or a scrape target's; every label in by/without/on/ignoring is one of those of the
//     metrics in that query
//   - the file stays under 256 KiB (kubectl apply's last-applied annotation)
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const sep = args.indexOf("--");
const dashboards = sep < 0 ? args : args.slice(0, sep);
const sourceDirs = sep < 0 ? ["broker", "workers", "api", "lib"] : args.slice(sep + 1);

// Labels every scraped series has (Prometheus Operator's ServiceMonitor/PodMonitor targets).
const TARGET_LABELS = ["namespace", "pod", "job", "instance", "container", "endpoint", "service"];
// Series Prometheus itself makes for every target.
const PROMETHEUS_SERIES = new Map([
  ["up", { kind: "gauge", labels: [] }],
  ["scrape_duration_seconds", { kind: "gauge", labels: [] }],
  ["scrape_samples_scraped", { kind: "gauge", labels: [] }],
]);
const GRAFANA_VARS = new Set(["__rate_interval", "__interval", "__interval_ms", "__range",
  "__range_s", "__range_ms", "__from", "__to", "__dashboard", "__name"]);
const KEYWORDS = new Set(["and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
  "group_right", "bool", "offset", "inf", "nan", "atan2"]);
const AGGREGATIONS = new Set(["sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
  "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"]);
const LABEL_LISTS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);
const COUNTER_FUNCS = new Set(["rate", "irate", "increase", "resets"]);
const HISTO_SUFFIXES = ["_bucket", "_sum", "_count"];

// ---- the families the code registers ----

function cFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...cFiles(p));
    else if (p.endsWith(".c")) out.push(p);
  }
  return out;
}

const STR = String.raw`"(?:[^"\\]|\\.)*"`;
function families(dirs) {
  const fams = new Map();
  const add = (name, kind, labels, where) => {
    const prev = fams.get(name);
    // the same name in several processes (atende_up, atende_build_info): labels are a union
    if (prev) prev.labels = [...new Set([...prev.labels, ...labels])];
    else fams.set(name, { kind, labels, where });
  };
  const call = new RegExp(String.raw`at_metrics_(counter|gauge|histogram)\s*\(\s*[^,()]+,\s*` +
    String.raw`(${STR}|[A-Za-z_][\w.\[\]]*)\s*,\s*(?:(?:${STR}\s*)+|[A-Za-z_][\w.\[\]]*)\s*,\s*` +
    String.raw`(${STR}|NULL)`, "g");
  for (const file of dirs.flatMap(cFiles)) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(call)) {
      const labels = m[3] === "NULL" ? [] : JSON.parse(m[3]).split(",").map((s) => s.trim()).filter(Boolean);
      if (m[2].startsWith('"')) {
        add(JSON.parse(m[2]), m[1], labels, file);
        continue;
      }
      // a table's field: NAME[i].name -> the entries {"atende_...", ...} of `NAME[] = {`
      const table = m[2].match(/^([A-Za-z_]\w*)\[/);
      if (!table) continue;
      const start = text.search(new RegExp(String.raw`\b${table[1]}\s*\[\s*\w*\s*\]\s*=\s*\{`));
      if (start < 0) continue;
      const body = text.slice(start, text.indexOf("};", start));
      for (const e of body.matchAll(/\{\s*"(atende_[a-z0-9_]+)"/g))
        add(e[1], m[1] === "histogram" ? "histogram" : e[1].endsWith("_total") ? "counter" : "gauge",
          labels, file);
    }
  }
  return fams;
}

// ---- PromQL: the metric names, selector labels and grouping labels of an expression ----

function lex(expr) {
  const metrics = []; // {name, labels: [...], func}
  const groupLabels = [];
  const vars = [];
  const stack = []; // function name (or "") of each open parenthesis
  let i = 0;
  const n = expr.length;
  const skipSpace = () => { while (i < n && /\s/.test(expr[i])) i++; };
  const ident = () => {
    const m = expr.slice(i).match(/^[A-Za-z_:][A-Za-z0-9_:]*/);
    if (!m) return null;
    i += m[0].length;
    return m[0];
  };
  const variable = () => { // $name, ${name}, ${name:fmt}, [[name]]
    const m = expr.slice(i).match(/^\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|^\$([A-Za-z0-9_]+)|^\[\[([A-Za-z0-9_]+)\]\]/);
    i += m[0].length;
    vars.push(m[1] ?? m[2] ?? m[3]);
  };
  const string = () => {
    const q = expr[i++];
    while (i < n && expr[i] !== q) {
      if (expr[i] === "\\" && q !== "`") i++;
      if (expr[i] === "$") { variable(); continue; }
      i++;
    }
    i++;
  };
  const matchers = () => { // at "{": label names of the matchers
    const labels = [];
    let name;
    i++;
    for (;;) {
      skipSpace();
      if (i >= n) throw new Error("unclosed {");
      if (expr[i] === "}") { i++; return { labels, name }; }
      if (expr[i] === ",") { i++; continue; }
      if (expr[i] === '"' || expr[i] === "'" || expr[i] === "`") {
        const from = i;
        string();
        if (labels.at(-1) === "__name__") name = JSON.parse(expr.slice(from, i).replace(/^'|'$/g, '"'));
        continue;
      }
      if (/[=!~]/.test(expr[i])) { i++; continue; }
      const l = ident();
      if (!l) throw new Error(`unexpected '${expr[i]}' in a selector`);
      labels.push(l);
    }
  };
  while (i < n) {
    const c = expr[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"' || c === "'" || c === "`") { string(); continue; }
    if (c === "$" || expr.startsWith("[[", i)) { variable(); continue; }
    if (c === "[") { // a range or a subquery: durations and variables only
      const end = expr.indexOf("]", i);
      if (end < 0) throw new Error("unclosed [");
      for (const v of expr.slice(i, end).matchAll(/\$\{?([A-Za-z0-9_]+)/g)) vars.push(v[1]);
      i = end + 1;
      continue;
    }
    if (c === "(") { stack.push(""); i++; continue; }
    if (c === ")") { stack.pop(); i++; continue; }
    if (c === "{") { // a selector without a metric name: {__name__="..."}
      const s = matchers();
      if (s.name) metrics.push({ name: s.name, labels: s.labels.filter((l) => l !== "__name__"), func: stack.at(-1) });
      continue;
    }
    if (/[0-9.]/.test(c)) { // a number or a duration (offset 5m)
      const m = expr.slice(i).match(/^(?:0x[0-9a-fA-F]+|(?:[0-9]*\.)?[0-9]+(?:[eE][+-]?[0-9]+)?(?:ms|[smhdwy])*)+/);
      i += m ? m[0].length : 1;
      continue;
    }
    if (/[A-Za-z_:]/.test(c)) {
      const id = ident();
      skipSpace();
      const lower = id.toLowerCase();
      if (LABEL_LISTS.has(lower)) {
        if (expr[i] === "(") {
          const end = expr.indexOf(")", i);
          if (end < 0) throw new Error(`unclosed ${id} (`);
          groupLabels.push(...expr.slice(i + 1, end).split(",").map((s) => s.trim()).filter(Boolean));
          i = end + 1;
        }
        continue;
      }
      if (KEYWORDS.has(lower)) continue;
      if (expr[i] === "(") { stack.push(id); i++; continue; }
      if (AGGREGATIONS.has(id)) continue; // sum by (x) (...)
      const s = expr[i] === "{" ? matchers() : { labels: [] };
      metrics.push({ name: id, labels: s.labels, func: stack.at(-1) });
      continue;
    }
    i++; // operators, commas
  }
  return { metrics, groupLabels, vars };
}

// ---- the dashboard ----

function panelsOf(list) {
  const out = [];
  for (const p of list ?? []) {
    out.push(p);
    if (p.type === "row") out.push(...panelsOf(p.panels));
  }
  return out;
}

function check(file, fams) {
  const errors = [];
  const fail = (where, msg) => errors.push(`${where}: ${msg}`);
  let dash;
  try {
    const size = statSync(file).size;
    if (size > 256 * 1024) fail(file, `${size} bytes: over kubectl apply's 256 KiB annotation limit`);
    dash = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    return { errors: [`${file}: not valid JSON: ${e.message}`] };
  }
  if (!(dash.schemaVersion >= 36)) fail(file, `schemaVersion ${dash.schemaVersion}: want 36 or later`);
  if (!dash.uid || !dash.title) fail(file, "no uid or title");
  const vars = new Map((dash.templating?.list ?? []).map((v) => [v.name, v]));
  const ds = vars.get("DS_PROMETHEUS");
  if (ds?.type !== "datasource" || ds?.query !== "prometheus")
    fail(file, "no template variable DS_PROMETHEUS of type datasource, query prometheus");
  for (const v of ["namespace", "stage"]) if (!vars.has(v)) fail(file, `no template variable ${v}`);

  let queries = 0;
  const names = new Set();
  const checkExpr = (where, expr) => {
    queries++;
    let r;
    try {
      r = lex(expr);
    } catch (e) {
      fail(where, `cannot read the query (${e.message}): ${expr}`);
      return;
    }
    if (r.metrics.length === 0) fail(where, `names no metric: ${expr}`);
    for (const v of r.vars)
      if (!vars.has(v) && !GRAFANA_VARS.has(v)) fail(where, `$${v} is not a template variable`);
    const known = new Set(TARGET_LABELS);
    for (const m of r.metrics) {
      let fam = fams.get(m.name) ?? PROMETHEUS_SERIES.get(m.name);
      let labels = fam?.labels ?? [];
      let family = m.name;
      if (fam?.kind === "histogram") {
        fail(where, `${m.name} is a histogram: query ${m.name}_bucket, _sum or _count`);
        continue;
      }
      if (!fam) {
        const suffix = HISTO_SUFFIXES.find((s) => m.name.endsWith(s));
        const base = suffix && fams.get(m.name.slice(0, -suffix.length));
        if (base?.kind === "histogram") {
          fam = base;
          family = m.name.slice(0, -suffix.length);
          labels = suffix === "_bucket" ? [...base.labels, "le"] : base.labels;
        } else {
          fail(where, `${m.name} is not exported by the code` +
            (base ? ` (${m.name.slice(0, -suffix.length)} is a ${base.kind}, not a histogram)` : ""));
          continue;
        }
      }
      names.add(family);
      labels.forEach((l) => known.add(l));
      for (const l of m.labels)
        if (!labels.includes(l) && !TARGET_LABELS.includes(l))
          fail(where, `${m.name} has no label ${l} (it has: ${labels.join(", ") || "none"})`);
      if (COUNTER_FUNCS.has(m.func) && fam.kind === "gauge") fail(where, `${m.func}() of the gauge ${m.name}`);
    }
    for (const l of r.groupLabels)
      if (!known.has(l)) fail(where, `groups by ${l}, which none of its metrics has`);
  };

  for (const v of vars.values()) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : v.query?.query ?? "";
    const m = q.match(/^\s*label_values\((.*),\s*([A-Za-z_]\w*)\s*\)\s*$/s) ?? q.match(/^\s*query_result\((.*)\)\s*$/s);
    if (!m) fail(`variable ${v.name}`, `query is not label_values(...) or query_result(...): ${q}`);
    else checkExpr(`variable ${v.name}`, m[1]);
    if (v.datasource?.uid !== "${DS_PROMETHEUS}") fail(`variable ${v.name}`, "datasource is not ${DS_PROMETHEUS}");
  }

  const panels = panelsOf(dash.panels);
  const ids = new Map();
  for (const p of panels) {
    const where = `panel ${p.id} "${p.title ?? ""}"`;
    if (!Number.isInteger(p.id)) fail(where, "no integer id");
    else if (ids.has(p.id)) fail(where, `id ${p.id} is also "${ids.get(p.id)}"'s`);
    else ids.set(p.id, p.title);
    if (!p.gridPos) fail(where, "no gridPos");
    if (p.type === "row" || p.type === "text") continue;
    if (p.datasource?.uid !== "${DS_PROMETHEUS}") fail(where, "datasource is not ${DS_PROMETHEUS}");
    const targets = (p.targets ?? []).filter((t) => !t.hide);
    if (!targets.some((t) => t.expr)) fail(where, "no query");
    for (const t of targets) {
      if (t.datasource && t.datasource.uid !== "${DS_PROMETHEUS}")
        fail(`${where} ${t.refId}`, "target's datasource is not ${DS_PROMETHEUS}");
      if (t.expr) checkExpr(`${where} ${t.refId}`, t.expr);
    }
  }
  return { errors, panels: panels.filter((p) => p.type !== "row").length, queries, names };
}

const fams = families(sourceDirs);
let failed = false;
for (const file of dashboards) {
  const r = check(file, fams);
  if (r.errors.length) {
    failed = true;
    for (const e of r.errors) console.log(`  ${e.startsWith(file) ? e : `${file}: ${e}`}`);
  } else {
    console.log(`  ${file}: ${r.panels} panels, ${r.queries} queries, ${r.names.size} metric families, ` +
      `all exported (of ${fams.size} the code registers)`);
  }
}
process.exit(failed ? 1 : 0);
