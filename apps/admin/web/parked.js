// The parked (poison) events of one model, with retry and discard buttons
// for each and for all. Reloaded when the model's parked count changes and
// every few seconds while it has any.
"use strict";

const PARKED_REFRESH_MS = 5000;
const PARKED_ROWS = 10; // the rest: busctl parked

class ParkedList {
  constructor(model, api, report) {
    this.model = model;
    this.api = api;
    this.report = report;
    this.count = 0;
    this.loadedAt = 0;
    this.busy = false;
    this.root = document.createElement("section");
    this.root.className = "parked";
    this.root.hidden = true;
  }

  path(suffix) {
    return `models/${encodeURIComponent(this.model)}/parked${suffix}`;
  }

  // Called with each status: the model's parked count.
  update(count) {
    const stale = Date.now() - this.loadedAt > PARKED_REFRESH_MS;
    if (count !== this.count || (count > 0 && stale)) {
      this.count = count;
      if (count === 0)
        this.show([]);
      else
        this.load();
    }
  }

  async load() {
    if (this.busy)
      return;
    this.busy = true;
    try {
      const reply = await this.api("GET", this.path(""));
      this.show(reply.parked || []);
    } catch (err) {
      this.report(`list the parked events of ${this.model}`, err);
    } finally {
      this.loadedAt = Date.now();
      this.busy = false;
    }
  }

  async act(action, seq) {
    const what = `${action} ${seq === undefined ? "every parked event" : "seq " + seq} of ${this.model}`;
    try {
      const query = seq === undefined ? "" : `?seq=${seq}`;
      const reply = await this.api("POST", this.path(`/${action}${query}`));
      this.count = (reply.parked || []).length;
      this.loadedAt = Date.now();
      this.show(reply.parked || []);
    } catch (err) {
      this.report(what, err);
    }
  }

  button(label, action, seq) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.action = action;
    if (seq !== undefined)
      b.dataset.seq = String(seq);
    b.addEventListener("click", async () => {
      b.disabled = true;
      await this.act(action, seq);
      b.disabled = false;
    });
    return b;
  }

  show(entries) {
    this.root.replaceChildren();
    this.root.hidden = entries.length === 0;
    if (entries.length === 0)
      return;
    const head = document.createElement("div");
    head.className = "parked-head";
    const title = document.createElement("h3");
    title.textContent = `${entries.length} parked event${entries.length === 1 ? "" : "s"}`;
    head.append(title, this.button("Retry all", "retry"), this.button("Discard all", "discard"));
    const table = document.createElement("table");
    const header = table.createTHead().insertRow();
    for (const h of ["seq", "event", "type", "key", "reason", "tries", "error", ""]) {
      const th = document.createElement("th");
      th.textContent = h;
      header.append(th);
    }
    const body = table.createTBody();
    for (const entry of entries.slice(0, PARKED_ROWS)) {
      const event = entry.event || {};
      const seq = entry.seq !== undefined ? entry.seq : event.seq;
      const row = body.insertRow();
      row.dataset.seq = String(seq);
      const reason = entry.reason === "behind" ? `behind ${entry.behind}` : entry.reason;
      for (const text of [seq, event.id, event.type, entry.key, reason, entry.attempts,
                          entry.error || ""]) {
        const cell = row.insertCell();
        cell.textContent = text === undefined || text === null ? "" : String(text);
      }
      row.cells[6].className = "error-text";
      row.insertCell().append(this.button("Retry", "retry", seq),
                              this.button("Discard", "discard", seq));
    }
    this.root.append(head, table);
    if (entries.length > PARKED_ROWS) {
      const more = document.createElement("p");
      more.className = "more";
      more.textContent = `and ${entries.length - PARKED_ROWS} more (busctl parked ${this.model} lists them all)`;
      this.root.append(more);
    }
  }
}
