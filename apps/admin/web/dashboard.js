// The dashboard: polls GET /status every second and keeps one card per read
// model (state, counters, live lag and throughput charts, lifecycle buttons,
// parked events). Every failed request is shown, never swallowed.
"use strict";

const POLL_MS = 1000;
const HISTORY = 120; // samples per chart: two minutes
const MAX_ERRORS = 5;

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// Sends a request to the admin API (docs/admin-api.md) and returns its JSON
// object; throws an ApiError with the API's message otherwise.
async function api(method, path) {
  let res;
  try {
    res = await fetch(path, {method, cache: "no-store",
                             headers: {Accept: "application/json"}});
  } catch (err) {
    throw new ApiError(`cannot reach the node (${err.message})`, 0);
  }
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch (_) {
    // not JSON: said below
  }
  if (!res.ok) {
    const e = body && body.error;
    throw new ApiError(e ? `${e.message} (HTTP ${res.status} ${e.code})`
                         : `HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
  }
  if (body === null || typeof body !== "object")
    throw new ApiError(`${method} /${path} answered something that is not JSON`, res.status);
  return body;
}

// Adds an error to the list at the top, newest first, until dismissed.
function report(what, err) {
  const list = document.getElementById("errors");
  const item = document.createElement("div");
  item.className = "error";
  const when = document.createElement("time");
  when.textContent = new Date().toLocaleTimeString("en-GB");
  const text = document.createElement("span");
  text.textContent = `${what}: ${err.message}`;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "dismiss";
  close.textContent = "\u00d7";
  close.title = "dismiss";
  close.addEventListener("click", () => item.remove());
  item.append(when, text, close);
  list.prepend(item);
  while (list.children.length > MAX_ERRORS)
    list.lastChild.remove();
}

function duration(ms) {
  if (ms < 1000)
    return `${ms} ms`;
  if (ms < 60000)
    return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600)
    return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const ACTIONS = [
  {action: "pause", label: "Pause"},
  {action: "resume", label: "Resume"},
  {action: "rebuild", label: "Rebuild", confirm: true},
  {action: "restart", label: "Restart", confirm: true},
];

const STATS = [
  ["checkpoint", "checkpoint", formatNumber],
  ["lag_events", "lag", formatNumber],
  ["lag_ms", "lag time", duration],
  ["applied", "applied", formatNumber],
  ["skipped", "skipped", formatNumber],
  ["parked", "parked", formatNumber],
  ["restarts", "restarts", formatNumber],
  ["rebuilds", "rebuilds", formatNumber],
];

class ModelCard {
  constructor(name, refresh) {
    this.name = name;
    this.refresh = refresh;
    this.lastApplied = null;
    this.lastAt = 0;
    this.root = document.createElement("article");
    this.root.className = "model";
    this.root.dataset.model = name;
    const head = document.createElement("div");
    head.className = "model-head";
    const title = document.createElement("h2");
    title.textContent = name;
    this.badge = document.createElement("span");
    this.badge.className = "state";
    head.append(title, this.badge);
    this.stats = document.createElement("dl");
    this.values = {};
    for (const [key, label] of STATS) {
      const div = document.createElement("div");
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.dataset.field = key;
      div.append(dt, dd);
      this.stats.append(div);
      this.values[key] = dd;
    }
    this.lag = new Sparkline("lag", "events", HISTORY);
    this.rate = new Sparkline("throughput", "events/s", HISTORY);
    const charts = document.createElement("div");
    charts.className = "charts";
    charts.append(this.lag.root, this.rate.root);
    this.extra = document.createElement("p");
    this.extra.className = "extra";
    this.lastError = document.createElement("p");
    this.lastError.className = "last-error";
    this.buttons = {};
    const actions = document.createElement("div");
    actions.className = "actions";
    for (const a of ACTIONS) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.action = a.action;
      b.textContent = a.label;
      b.addEventListener("click", () => this.click(a, b));
      this.buttons[a.action] = b;
      actions.append(b);
    }
    this.parked = new ParkedList(name, api, report);
    this.root.append(head, this.stats, charts, this.extra, this.lastError, actions,
                     this.parked.root);
  }

  // Rebuild and restart take a second click within four seconds.
  async click(a, button) {
    if (a.confirm && button.dataset.armed !== "1") {
      button.dataset.armed = "1";
      button.textContent = `Confirm ${a.action}`;
      setTimeout(() => {
        button.dataset.armed = "";
        button.textContent = a.label;
      }, 4000);
      return;
    }
    button.dataset.armed = "";
    button.textContent = a.label;
    button.disabled = true;
    this.root.classList.add("pending");
    try {
      await api("POST", `models/${encodeURIComponent(this.name)}/${a.action}`);
    } catch (err) {
      report(`${a.action} ${this.name}`, err);
    } finally {
      this.root.classList.remove("pending");
      button.disabled = false;
      this.refresh();
    }
  }

  update(m, at) {
    this.root.dataset.state = m.state;
    this.badge.textContent = m.state === "stalled" && m.stalled_ms
      ? `stalled ${duration(m.stalled_ms)}`
      : m.state === "restoring" ? `restoring ${m.restored_rows || 0} rows`
      : m.state.replace("_", " ");
    for (const [key, , format] of STATS)
      this.values[key].textContent = format(m[key] || 0);
    this.values.parked.parentElement.classList.toggle("warn", (m.parked || 0) > 0);
    this.values.lag_events.parentElement.classList.toggle("warn", (m.lag_events || 0) > 0);
    // Throughput: applied events per second since the previous status.
    let rate = 0;
    if (this.lastApplied !== null && at > this.lastAt)
      rate = Math.max(0, (m.applied - this.lastApplied) * 1000 / (at - this.lastAt));
    this.lastApplied = m.applied;
    this.lastAt = at;
    this.lag.push(m.lag_events || 0);
    this.rate.push(rate);
    const nested = [];
    for (const role of ["shadow", "previous"])
      if (m[role])
        nested.push(`${role}: ${m[role].state}, checkpoint ${formatNumber(m[role].checkpoint)}, ` +
                    `lag ${formatNumber(m[role].lag_events)}`);
    this.extra.textContent = nested.join(" \u00b7 ");
    this.extra.hidden = nested.length === 0;
    this.lastError.textContent = m.last_error ? `last error: ${m.last_error}` : "";
    this.lastError.hidden = !m.last_error;
    this.buttons.pause.disabled = m.state === "paused";
    this.buttons.resume.disabled = m.state !== "paused";
    this.parked.update(m.parked || 0);
  }
}

const cards = new Map();
let pollTimer = null;

function setLink(ok, why) {
  const link = document.getElementById("link");
  link.dataset.link = ok ? "live" : "down";
  link.textContent = ok ? "live" : "no answer";
  link.title = ok ? "" : why;
}

function render(status) {
  const models = status.read_models || [];
  document.getElementById("node").textContent =
    `${status.node || "bus"} node \u00b7 head ${formatNumber(status.head || 0)} \u00b7 ` +
    `${models.length} read model${models.length === 1 ? "" : "s"} \u00b7 ` +
    `updated ${new Date().toLocaleTimeString("en-GB")}`;
  const container = document.getElementById("models");
  const at = performance.now();
  const seen = new Set();
  for (const m of models) {
    seen.add(m.model);
    let card = cards.get(m.model);
    if (!card) {
      card = new ModelCard(m.model, pollNow);
      cards.set(m.model, card);
      container.append(card.root);
    }
    card.update(m, at);
  }
  for (const [name, card] of cards)
    if (!seen.has(name)) {
      card.root.remove();
      cards.delete(name);
    }
  document.getElementById("empty").hidden = models.length > 0;
}

let lastPollError = "";
let polling = false;
let pollAgain = false;

async function poll() {
  if (polling) { // one request at a time: an action's poll waits its turn
    pollAgain = true;
    return;
  }
  polling = true;
  const started = performance.now();
  try {
    render(await api("GET", "status"));
    setLink(true);
    lastPollError = "";
  } catch (err) {
    setLink(false, err.message);
    // Once per distinct failure, not every second.
    if (err.message !== lastPollError)
      report("GET /status", err);
    lastPollError = err.message;
  } finally {
    polling = false;
  }
  const wait = pollAgain ? 0 : Math.max(0, POLL_MS - (performance.now() - started));
  pollAgain = false;
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, wait);
}

// After an action: show its effect now rather than within a second.
function pollNow() {
  clearTimeout(pollTimer);
  poll();
}

poll();
