// bms-rig panel: one page, plain JavaScript, no build.
// Every string from a run (DUT, instruments, plans, reasons) goes into the page as
// text (textContent), never as markup. The token is kept for this tab only
// (sessionStorage) and sent in a header, never in a URL.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { runId: null, source: null, plans: new Map(), total: 0, prompt: null,
                plots: new Set(), ended: false, alive: false, lab: false };
// what the tests and the benchmark read: per record [type, written at, received, shown]
window.rigPanel = { arrivals: [], records: 0 };

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function token() { return sessionStorage.getItem("rig-token") || ""; }

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Rig-Token": token() },
    body: JSON.stringify(body || {}),
  });
  let data = {};
  try { data = await response.json(); } catch (e) { /* no body */ }
  if (!response.ok) {
    const why = typeof data.detail === "string" ? data.detail : response.statusText;
    throw new Error(`${response.status}: ${why}`);
  }
  return data;
}

// --- token ---------------------------------------------------------------------------
async function checkToken() {
  const shown = $("token-state");
  if (!token()) { shown.textContent = "read-only"; return; }
  try { await post("/api/token"); shown.textContent = "token accepted"; }
  catch (e) { shown.textContent = `token refused (${e.message})`; }
}

$("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("rig-token", $("token").value.trim());
  $("token").value = "";
  checkToken();
});

// --- start and history ----------------------------------------------------------------
async function loadInfo() {
  const info = await (await fetch("/api/info")).json();
  for (const [id, names] of [["start-station", info.stations], ["start-spec", info.specs]]) {
    const select = $(id);
    select.replaceChildren(...names.map((n) => { const o = el("option", n); o.value = n; return o; }));
  }
  const preferred = info.stations.indexOf("sim-16s");
  if (preferred >= 0) $("start-station").selectedIndex = preferred;
  state.lab = info.lab;
  if (info.lab) loadLab();
}

function showHistorySource(history) {
  const kind = history.database === "postgresql" ? "PostgreSQL" : "SQLite";
  $("history-source").textContent = history.source === "database"
    ? `(results database, ${kind})` : "(runs folder)";
  const note = $("history-note");
  note.hidden = history.state !== "unreachable";
  note.textContent = "The results database does not answer: runs of this machine's runs folder only.";
}

async function loadRuns() {
  const data = await (await fetch("/api/runs")).json();
  showHistorySource(data.history);
  const list = $("runs");
  list.replaceChildren(...data.runs.map((run) => {
    const item = el("li");
    if (run.run_id === state.runId) item.className = "selected";
    if (run.here) {
      const link = el("a", run.run_id, "plan");
      link.href = `#run=${encodeURIComponent(run.run_id)}`;
      item.append(link, " ");
    } else {
      item.append(el("span", run.run_id, "plan"), " ");  // no files here to follow
    }
    const verdict = run.alive ? "running" : (run.verdict || "no end");
    item.append(el("span", verdict, `badge ${run.alive ? "running" : (run.verdict || "")}`));
    const dut = run.serial ? `${run.dut} (${run.serial})` : run.dut;
    item.append(el("div", `${run.station} · ${dut} · ${run.tested_by}`, "muted"));
    if (!run.here) item.append(el("div", "run folder on another machine", "muted"));
    for (const name of run.reports) {
      const a = el("a", name.endsWith(".pdf") ? "PDF" : "HTML");
      a.href = `/runs/${encodeURIComponent(run.run_id)}/${name}`;
      a.target = "_blank"; a.rel = "noopener";
      item.append(" ", a);
    }
    return item;
  }));
  return data.runs;
}

function since(epoch) {
  if (!epoch) return "";
  const when = new Date(epoch * 1000);
  const today = new Date().toDateString() === when.toDateString();
  return today ? when.toLocaleTimeString() : when.toLocaleString();
}

const PLACE_STATE = { free: "free", reserved: "reserved", held: "held", dead: "dead client" };

function placeItem(p) {
  const item = el("li");
  item.dataset.place = p.name;
  let title;
  if (p.here && p.run_id) {  // its run is here: this panel's live view
    title = el("a", p.name);
    title.href = `#run=${encodeURIComponent(p.run_id)}`;
    if (p.run_id === state.runId) item.className = "selected";
  } else if (p.panel_url) {  // the panel of the bench PC that holds it
    title = el("a", p.name);
    title.href = p.panel_url;
    title.target = "_blank"; title.rel = "noopener";
  } else {
    title = el("span", p.name);
  }
  title.classList.add("place-name");
  item.append(title, " ", el("span", PLACE_STATE[p.state] || p.state, `badge place-${p.state}`));
  if (p.holder) {
    const who = `${p.user} on ${p.host}${p.pid ? ` (process ${p.pid})` : ""} since ${since(p.since)}`;
    item.append(el("div", who, "holder"));
    if (p.state === "dead") {
      item.append(el("div", "that process is gone: check the bench, then its owner runs rig place release " + p.name, "error"));
    }
    const run = el("div", "run: ", "muted");
    run.append(p.run_id ? el("span", p.run_id, "plan") : "not known here");
    if (!p.here && p.panel_url) {
      const there = el("a", `the panel on ${p.host}`);
      there.href = p.panel_url;
      there.target = "_blank"; there.rel = "noopener";
      run.append(" · ", there);
    }
    item.append(run);
  }
  const tags = Object.entries(p.tags || {}).map(([k, v]) => `${k}=${v}`).join(", ");
  const about = [tags, p.comment].filter(Boolean).join(" · ");
  if (about) item.append(el("div", about, "muted"));
  return item;
}

async function loadLab() {
  const data = await (await fetch("/api/lab")).json();
  if (!data.places) return;
  $("lab").hidden = false;
  $("lab-error").textContent = data.error || "";
  $("lab-error").hidden = !data.error;
  $("places").replaceChildren(...data.places.map(placeItem));
}

$("start-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = $("start-error");
  error.hidden = true;
  $("start-button").disabled = true;
  try {
    const data = await post("/api/runs", {
      station: $("start-station").value, spec: $("start-spec").value,
      select: $("start-select").value, markers: $("start-markers").value,
      tester: $("start-tester").value,
    });
    sessionStorage.setItem("rig-operator", $("start-tester").value.trim());
    $("prompt-by").value = $("start-tester").value.trim();
    location.hash = `run=${encodeURIComponent(data.run_id)}`;
  } catch (e) {
    error.textContent = e.message; error.hidden = false;
  } finally {
    $("start-button").disabled = false;
  }
});

// --- the live run ---------------------------------------------------------------------
function resetRun(runId) {
  if (state.source) state.source.close();
  Object.assign(state, { runId, source: null, plans: new Map(), total: 0, prompt: null,
                         plots: new Set(), ended: false, alive: false });
  $("no-run").hidden = runId !== null;
  $("run").hidden = runId === null;
  for (const id of ["run-station", "run-dut", "run-tester", "run-interlock", "current-step"]) {
    $(id).textContent = "";
  }
  $("run-id").textContent = runId || "";
  $("run-verdict").hidden = true;
  $("notice").hidden = true;
  $("prompt").hidden = true;
  $("reasons").hidden = true;
  $("reports").hidden = true;
  $("current-plan").textContent = "–";
  $("measurements").tBodies[0].replaceChildren();
  $("plots").replaceChildren();
  $("log").replaceChildren();
  setRunning(true);
  progress();
}

function setRunning(running) {
  state.alive = running;
  $("run-state").textContent = running ? "running" : "ended";
  $("run-state").className = `badge ${running ? "running" : ""}`;
  $("stop-button").hidden = !running;
}

function progress() {
  let done = 0;
  for (const outcome of state.plans.values()) if (outcome) done += 1;
  $("plans-done").textContent = done;
  $("plans-total").textContent = state.total;
  $("plans-bar").max = Math.max(state.total, 1);
  $("plans-bar").value = done;
}

function log(text, cls) {
  $("log").prepend(el("li", text, cls));  // newest first: nothing to scroll
}

function notice(text) {
  $("notice").textContent = text;
  $("notice").hidden = false;
}

function fmt(value) {
  if (value === null || value === undefined) return "–";
  return String(value);
}

function addMeasurement(m) {
  const row = el("tr");
  row.append(el("td", m.test, "plan"), el("td", m.name), el("td", m.shown, "num"),
             el("td", m.limits_shown), el("td", String(m.verdict || "").toUpperCase(), `v-${m.verdict}`));
  $("measurements").tBodies[0].append(row);
  $("measure-count").textContent = `(${$("measurements").tBodies[0].rows.length})`;
  if (m.plot) state.plots.add(JSON.stringify([m.plot, `${m.test}: ${m.name}`]));
}

function showPlot(name) {
  if ($("plots").querySelector(`[data-plot="${CSS.escape(name)}"]`)) return;
  let caption = name;
  for (const entry of state.plots) {
    const [plot, title] = JSON.parse(entry);
    if (plot === name) caption = title;
  }
  const figure = el("figure");
  figure.dataset.plot = name;
  const img = el("img");
  img.alt = caption;
  img.src = `/api/runs/${encodeURIComponent(state.runId)}/plots/${encodeURIComponent(name)}`;
  figure.append(img, el("figcaption", caption));
  $("plots").append(figure);
}

function showPrompt(p) {
  state.prompt = p.prompt;
  $("prompt-text").textContent = p.text;
  $("prompt-plan").textContent = p.test ? `Before ${p.test}.` : "Before the first plan.";
  $("prompt-timeout").textContent = fmt(p.timeout_s);
  $("prompt-error").hidden = true;
  if (!$("prompt-by").value) $("prompt-by").value = sessionStorage.getItem("rig-operator") || "";
  $("prompt").hidden = false;
}

async function answer(choice) {
  const by = $("prompt-by").value.trim();
  if (by) sessionStorage.setItem("rig-operator", by);
  const error = $("prompt-error");
  if (!by) { error.textContent = "Give your name: the answer is recorded with it."; error.hidden = false; return; }
  try {
    await post(`/api/runs/${encodeURIComponent(state.runId)}/prompts/${encodeURIComponent(state.prompt)}/answer`,
               { answer: choice, by });
    error.hidden = true;
  } catch (e) { error.textContent = e.message; error.hidden = false; }
}

$("prompt-form").addEventListener("submit", (ev) => { ev.preventDefault(); answer("done"); });
$("prompt-declined").addEventListener("click", () => answer("declined"));

$("stop-button").addEventListener("click", async () => {
  try { await post(`/api/runs/${encodeURIComponent(state.runId)}/stop`); log("stop sent (SIGINT, as Ctrl-C)"); }
  catch (e) { notice(`stop refused: ${e.message}`); }
});

function apply(r) {
  switch (r.type) {
    case "run_start":
      state.total = (r.selected || []).length;
      for (const t of r.selected || []) if (!state.plans.has(t)) state.plans.set(t, "");
      $("run-station").textContent = r.station;
      $("run-dut").textContent = r.dut_name;
      $("run-tester").textContent = r.tested_by;
      $("run-interlock").textContent = r.interlock || "none";
      break;
    case "dut":
      $("run-dut").textContent = `${$("run-dut").textContent} (reports ${r.model || r.hardware || "?"})`;
      break;
    case "test_start":
      $("current-plan").textContent = r.test;
      $("current-step").textContent = "";
      break;
    case "measurement":
      addMeasurement(r);
      break;
    case "test_result":
      if (r.when === "call" || r.outcome !== "passed") {
        const before = state.plans.get(r.test);
        if (!before || before === "passed") state.plans.set(r.test, r.outcome);
      }
      if (r.outcome !== "passed") log(`${r.test} ${r.when}: ${r.outcome}${r.reason ? ` — ${r.reason}` : ""}`);
      break;
    case "recovery":
      $("current-step").textContent = `· ${r.reason}: ${r.status}`;
      break;
    case "safe_state": {
      const failed = (r.failures || []).map((f) => `${f.action}: ${f.error}`).join("; ");
      log(`safe state (${r.reason})${failed ? ` FAILED: ${failed}` : ": every output safe"}`, failed ? "error" : "");
      if (r.reason === "end of session") $("current-step").textContent = "· bench in its safe state";
      break;
    }
    case "prompt":
      showPrompt(r);
      log(`operator step asked: ${r.text}`);
      break;
    case "prompt_result":
      if (state.prompt === r.prompt) { $("prompt").hidden = true; state.prompt = null; }
      log(r.outcome === "answered" ? `operator step ${r.step}: ${r.answer} by ${r.by} (${r.via})`
        : r.outcome === "timeout" ? `operator step ${r.step}: not answered in time`
        : `operator step ${r.step}: ${r.outcome}`);
      break;
    case "interlock":
      notice(`${r.reason}: the bench was put in its safe state and the run stopped`);
      log(r.reason, "error");
      break;
    case "error":
      log(`error (${r.stage}): ${r.error}`, "error");
      break;
    case "not_applicable":
      state.plans.delete(r.test);
      state.total = state.plans.size;
      break;
    case "run_end": {
      const verdict = $("run-verdict");
      verdict.textContent = r.verdict;
      verdict.className = `badge ${r.verdict}`;
      verdict.hidden = false;
      $("current-plan").textContent = "–";
      $("prompt").hidden = true;
      state.prompt = null;
      if (r.interrupted) notice(`INTERRUPTED: ${r.reason}. The bench was put in its safe state.`);
      const reasons = r.verdict_reasons || [];
      $("reason-list").replaceChildren(...reasons.map((x) => el("li", x)));
      $("reasons").hidden = reasons.length === 0;
      log(`run ended: ${r.verdict} (exit code ${r.exit_code})`);
      break;
    }
    default:
      break;
  }
}

// A `records` event carries every record the server found at one look (at most ten a
// second): applied together, then one layout.
function applyBatch(records) {
  const received = Date.now();
  for (const record of records) {
    apply(record);
    window.rigPanel.records += 1;
    window.rigPanel.arrivals.push([record.type, record.at, received, Date.now()]);
  }
  progress();
}

function openRun(runId) {
  resetRun(runId);
  if (!runId) return;
  const source = new EventSource(`/api/runs/${encodeURIComponent(runId)}/events`);
  state.source = source;
  source.addEventListener("records", (ev) => applyBatch(JSON.parse(ev.data).records));
  source.addEventListener("plot", (ev) => showPlot(JSON.parse(ev.data).plot));
  source.addEventListener("torn", (ev) => {
    const data = JSON.parse(ev.data);
    notice(`The results store ends in a torn line (${data.bytes} bytes): the run was killed mid-record.`);
  });
  source.addEventListener("end", (ev) => {
    const data = JSON.parse(ev.data);
    source.close();
    setRunning(false);
    if (!data.complete) notice(`${$("notice").hidden ? "" : $("notice").textContent + "\n"}The run's process is gone without a run_end record: killed or crashed (INCOMPLETE).`);
    if (!data.complete) { $("run-verdict").textContent = "INCOMPLETE"; $("run-verdict").className = "badge INCOMPLETE"; $("run-verdict").hidden = false; }
    loadRuns().then((runs) => {
      const run = runs.find((x) => x.run_id === runId);
      if (run && run.reports.length) {
        $("report-html").href = `/runs/${encodeURIComponent(runId)}/report.html`;
        $("report-pdf").href = `/runs/${encodeURIComponent(runId)}/report.pdf`;
        $("reports").hidden = false;
      }
    });
  });
}

function route() {
  const match = /^#run=(.+)$/.exec(location.hash);
  const runId = match ? decodeURIComponent(match[1]) : null;
  if (runId !== state.runId || runId === null) openRun(runId);
  loadRuns();
  if (state.lab) loadLab();
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", async () => {
  await loadInfo();
  checkToken();
  if (!location.hash) {
    const runs = await loadRuns();
    if (runs.length) { location.hash = `run=${encodeURIComponent(runs[0].run_id)}`; return; }
  }
  route();
  setInterval(() => {  // runs started elsewhere appear in the list; places change hands
    loadRuns();
    if (state.lab) loadLab();
  }, 10000);
});
