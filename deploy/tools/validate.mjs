// deploy/tools/validate.mjs: offline checks of atende's deployment files, run by
// deploy/check.sh with the npm packages kubernetes-models, @kubernetes-models/keda,
// @kubernetes-models/prometheus-operator and yaml.
//
//   node validate.mjs k8s <out-dir> <rendered.yaml>...   (files are validated as one set)
//       Validates every object against its Kubernetes / KEDA / Prometheus
//       Operator schema, then atende's own rules (securityContext, probes,
//       drain vs terminationGracePeriodSeconds, PDBs, autoscalers, no secret
//       values, broker shards), and writes one env file per atende container
//       to <out-dir>/<object>.<container>.env (first line: "# args: ...";
//       values from Secrets are written as @secret:<name>/<key>).
//   node validate.mjs compose <out-dir> <compose.yaml>
//       Same env files for every compose service that runs the atende image.
//
// Exit 0 when everything holds; otherwise every problem is printed, exit 1.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { parseAllDocuments, parse } from "yaml";

const problems = [];
const fail = (where, what) => problems.push(`${where}: ${what}`);

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  let module;
  if (group === "keda.sh") module = `@kubernetes-models/keda/${group}/${version}`;
  else if (group === "monitoring.coreos.com")
    module = `@kubernetes-models/prometheus-operator/${group}/${version}`;
  else module = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  try {
    const m = await import(module);
    return m[kind];
  } catch {
    return undefined;
  }
}

function podSpecOf(obj) {
  if (obj.kind === "Deployment" || obj.kind === "Job") return obj.spec?.template?.spec;
  if (obj.kind === "CronJob") return obj.spec?.jobTemplate?.spec?.template?.spec;
  return undefined;
}

function drainMs(env) {
  const v = env.ATENDE_DRAIN_GRACE_MS;
  return v === undefined ? 10000 : Number(v);   // the settings table's default
}

// Resolves a container's environment: envFrom ConfigMaps, then env entries.
function containerEnv(where, c, configMaps) {
  const env = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = configMaps.get(from.configMapRef.name);
      if (!cm) fail(where, `envFrom ConfigMap ${from.configMapRef.name} is not in the render`);
      else Object.assign(env, cm.data ?? {});
    } else if (from.secretRef) fail(where, "envFrom secretRef: name each secret key instead");
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.secretKeyRef)
      env[e.name] = `@secret:${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`;
    else if (e.valueFrom?.configMapKeyRef) {
      const cm = configMaps.get(e.valueFrom.configMapKeyRef.name);
      env[e.name] = cm?.data?.[e.valueFrom.configMapKeyRef.key];
      if (env[e.name] === undefined) fail(where, `${e.name}: configMapKeyRef not found`);
    } else env[e.name] = e.value ?? "";
  }
  return env;
}

const SECRET_NAMES = /^(ATENDE_DATABASE_URL|ATENDE_.*SECRET.*|ATENDE_.*TOKEN.*|ATENDE_.*KEY.*)$/;

function checkSecrets(where, env) {
  for (const [k, v] of Object.entries(env))
    if (SECRET_NAMES.test(k) && !String(v).startsWith("@secret:"))
      fail(where, `${k} must come from a Secret (secretKeyRef), not a literal or ConfigMap`);
}

function checkContainer(where, obj, pod, c) {
  const sc = c.securityContext ?? {};
  const psc = pod.securityContext ?? {};
  if (!(sc.runAsNonRoot ?? psc.runAsNonRoot)) fail(where, "runAsNonRoot is not true");
  if (!((sc.runAsUser ?? psc.runAsUser) > 0)) fail(where, "runAsUser is not a non-zero uid");
  if (sc.allowPrivilegeEscalation !== false) fail(where, "allowPrivilegeEscalation is not false");
  if (sc.readOnlyRootFilesystem !== true) fail(where, "readOnlyRootFilesystem is not true");
  if (!(sc.capabilities?.drop ?? []).includes("ALL")) fail(where, "capabilities do not drop ALL");
  if (sc.privileged) fail(where, "privileged");
  if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory)
    fail(where, "no cpu/memory requests");
  if (!c.resources?.limits?.memory) fail(where, "no memory limit");
  if (pod.automountServiceAccountToken !== false) fail(where, "service account token mounted");
  if (obj.kind !== "Deployment") return;
  if (c.livenessProbe?.httpGet?.path !== "/healthz") fail(where, "liveness probe is not GET /healthz");
  if (c.readinessProbe?.httpGet?.path !== "/readyz") fail(where, "readiness probe is not GET /readyz");
  const ports = new Set((c.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe])
    if (probe && !ports.has(probe.httpGet?.port)) fail(where, `probe port ${probe.httpGet?.port} is not a container port`);
  if (!(pod.topologySpreadConstraints ?? []).length) fail(where, "no topologySpreadConstraints");
}

function checkGrace(where, pod, c, env) {
  const preStop = c.lifecycle?.preStop?.exec?.command ?? [];
  const preStopMs = preStop.at(-2)?.endsWith("sleep") ? Number(preStop.at(-1)) * 1000 : 0;
  const graceMs = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
  const need = drainMs(env) + preStopMs + 2000;
  if (graceMs < need)
    fail(where, `terminationGracePeriodSeconds ${graceMs / 1000}s < drain ${drainMs(env)}ms + preStop ${preStopMs}ms + 2s margin`);
  if (graceMs > need + 30000)
    fail(where, `terminationGracePeriodSeconds ${graceMs / 1000}s is far above the drain (${drainMs(env)}ms): a stuck pod blocks rollouts`);
}

function selects(selector, labels) {
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v);
}

function writeEnv(outDir, name, args, env) {
  const lines = [`# args: ${args.join(" ")}`];
  for (const [k, v] of Object.entries(env)) lines.push(`${k}=${v}`);
  writeFileSync(`${outDir}/${name}.env`, lines.join("\n") + "\n");
}

function checkBrokers(brokers, envs) {
  const count = brokers.length;
  const index = new Set();
  for (const b of brokers) {
    const env = b.env;
    if (Number(env.ATENDE_BROKER_COUNT) !== count)
      fail(b.where, `ATENDE_BROKER_COUNT=${env.ATENDE_BROKER_COUNT} but ${count} broker Deployments`);
    index.add(env.ATENDE_BROKER_INDEX);
  }
  for (let i = 0; i < count; i++)
    if (!index.has(String(i))) fail("brokers", `no broker has ATENDE_BROKER_INDEX=${i}`);
  for (const [where, env] of envs) {
    const eps = (env.ATENDE_BROKER_ENDPOINTS ?? "").split(",").filter(Boolean);
    if (eps.length !== count)
      fail(where, `ATENDE_BROKER_ENDPOINTS lists ${eps.length} brokers, ${count} exist`);
    eps.forEach((ep, i) => {
      const b = brokers.find((x) => x.env.ATENDE_BROKER_INDEX === String(i));
      if (b && b.host && !ep.includes(`//${b.host}:`))
        fail(where, `endpoint ${i} (${ep}) is not broker ${i}'s Service ${b.host}`);
    });
  }
}

async function k8s(files, outDir) {
  const file = files.join(" + ");
  const docs = files.flatMap((f) => parseAllDocuments(readFileSync(f, "utf8")).map((d) => d.toJS()))
    .filter(Boolean);
  const configMaps = new Map();
  for (const d of docs) if (d.kind === "ConfigMap") configMaps.set(d.metadata.name, d);
  const deployments = docs.filter((d) => d.kind === "Deployment");
  const services = docs.filter((d) => d.kind === "Service");
  const pdbs = docs.filter((d) => d.kind === "PodDisruptionBudget");
  const scalers = docs.filter((d) => d.kind === "ScaledObject" || d.kind === "HorizontalPodAutoscaler");
  const brokers = [];
  const consumers = [];
  for (const obj of docs) {
    const where = `${obj.kind}/${obj.metadata?.name}`;
    const Model = await modelFor(obj.apiVersion, obj.kind);
    if (!Model) fail(where, `no schema for ${obj.apiVersion} ${obj.kind}`);
    else {
      try {
        new Model(obj).validate();
      } catch (e) {
        fail(where, `schema: ${e.message}`);
      }
    }
    if (obj.kind === "Secret") fail(where, "a Secret with values is in the manifests");
    const pod = podSpecOf(obj);
    if (!pod) continue;
    if (pod.securityContext?.runAsNonRoot !== true) fail(where, "pod runAsNonRoot is not true");
    for (const c of pod.containers ?? []) {
      const cw = `${where}[${c.name}]`;
      const env = containerEnv(cw, c, configMaps);
      checkContainer(cw, obj, pod, c);
      checkSecrets(cw, env);
      if (obj.kind === "Deployment") checkGrace(cw, pod, c, env);
      writeEnv(outDir, `${obj.metadata.name}.${c.name}`, c.args ?? [], env);
      if ((c.args ?? [])[0] === "broker") {
        const labels = obj.spec.template.metadata.labels;
        const svc = services.find((s) => s.spec.clusterIP === "None"
          && Object.keys(s.spec.selector ?? {}).includes("atende.io/shard") && selects({ matchLabels: s.spec.selector }, labels));
        if (!svc) fail(cw, "no headless per-shard Service selects this broker");
        brokers.push({ where: cw, env, host: svc?.metadata.name });
      } else if (["worker", "api"].includes((c.args ?? [])[0])) consumers.push([cw, env]);
    }
    if (obj.kind === "Deployment") {
      const labels = obj.spec.template.metadata.labels;
      if (!selects(obj.spec.selector, labels)) fail(where, "selector does not match its pods");
      if (!pdbs.some((p) => selects(p.spec.selector, labels))) fail(where, "no PodDisruptionBudget");
    }
  }
  if (deployments.length === 0) fail(file, "no Deployment rendered");
  checkBrokers(brokers, consumers);
  // every worker stage is autoscaled when any autoscaler is present
  if (scalers.length)
    for (const d of deployments.filter((x) => x.metadata.name.startsWith("atende-worker-")))
      if (!scalers.some((s) => s.spec.scaleTargetRef?.name === d.metadata.name))
        fail(`Deployment/${d.metadata.name}`, "no ScaledObject/HPA scales this stage");
  for (const d of deployments) {
    const n = scalers.filter((s) => s.spec.scaleTargetRef?.name === d.metadata.name).length;
    if (n > 1) fail(`Deployment/${d.metadata.name}`, `${n} autoscalers fight over it (KEDA and HPA both?)`);
  }
  for (const s of scalers) {
    const target = deployments.find((d) => d.metadata.name === s.spec.scaleTargetRef?.name);
    if (!target) fail(`${s.kind}/${s.metadata.name}`, `targets missing Deployment ${s.spec.scaleTargetRef?.name}`);
    const stage = s.metadata.name.replace("atende-worker-", "");
    for (const t of s.spec.triggers ?? [])
      if (t.type === "prometheus" && !t.metadata.query.includes(`stage="${stage}"`))
        fail(`${s.kind}/${s.metadata.name}`, `trigger ${t.name} does not query stage="${stage}"`);
    if (s.kind === "ScaledObject" && !(s.spec.minReplicaCount >= 1))
      fail(`${s.kind}/${s.metadata.name}`, "minReplicaCount < 1: the first message would wait for a cold start");
  }
  console.log(`${file}: ${docs.length} objects, ${deployments.length} Deployments, ${scalers.length} autoscalers`);
}

// Compose's ${VAR:-default} / ${VAR} interpolation, from this process's environment.
function interpolate(v) {
  return String(v).replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_, name, def) => process.env[name] ?? def ?? "")
    .replace(/\$\$/g, "$");
}

function compose(file, outDir) {
  const doc = parse(readFileSync(file, "utf8"), { merge: true });
  let n = 0;
  for (const [name, svc] of Object.entries(doc.services ?? {})) {
    const image = svc.image ?? "";
    if (!image.startsWith("atende:")) continue;      // atende-fake-provider, postgres
    let env = {};
    const e = svc.environment ?? {};
    if (Array.isArray(e)) for (const kv of e) env[kv.split("=")[0]] = kv.split("=").slice(1).join("=");
    else env = { ...e };
    delete env["<<"];
    const command = Array.isArray(svc.command) ? svc.command : String(svc.command ?? "").split(" ");
    if (!svc.read_only) fail(`compose ${name}`, "read_only is not true");
    if (!(svc.cap_drop ?? []).includes("ALL")) fail(`compose ${name}`, "cap_drop does not include ALL");
    if (name !== "migrate" && !svc.healthcheck) fail(`compose ${name}`, "no healthcheck");
    const grace = Number(String(svc.stop_grace_period ?? "10s").replace(/s$/, "")) * 1000;
    const drain = Number(env.ATENDE_DRAIN_GRACE_MS ?? 10000);
    if (name !== "migrate" && grace < drain + 2000)
      fail(`compose ${name}`, `stop_grace_period ${grace}ms < drain ${drain}ms + 2s`);
    writeEnv(outDir, `compose.${name}`, command,
      Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v)])));
    n++;
  }
  if (n === 0) fail(file, "no service runs the atende image");
  console.log(`${file}: ${n} atende services`);
}

const [mode, outDir, ...inputs] = process.argv.slice(2);
if (!mode || !outDir || inputs.length === 0) {
  console.error("usage: node validate.mjs k8s|compose <out-dir> <file>...");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
if (mode === "k8s") await k8s(inputs, outDir);
else if (mode === "compose") compose(inputs[0], outDir);
else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
for (const p of problems) console.error(`  ${p}`);
process.exit(problems.length ? 1 : 0);
