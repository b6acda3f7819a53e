// A small live chart drawn as inline SVG: one series of numbers over the
// last `capacity` samples, scaled to its own maximum.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

class Sparkline {
  // `label` names the series ("lag", "throughput"), `unit` follows its values.
  constructor(label, unit, capacity) {
    this.unit = unit;
    this.capacity = capacity;
    this.values = [];
    this.width = 240;
    this.height = 56;
    this.root = document.createElement("figure");
    this.root.className = "chart";
    this.root.dataset.series = label;
    const caption = document.createElement("figcaption");
    this.title = document.createElement("span");
    this.title.textContent = label;
    this.current = document.createElement("span");
    this.current.className = "current";
    caption.append(this.title, this.current);
    this.svg = document.createElementNS(SVG_NS, "svg");
    this.svg.setAttribute("viewBox", `0 0 ${this.width} ${this.height}`);
    this.svg.setAttribute("preserveAspectRatio", "none");
    this.svg.setAttribute("role", "img");
    this.area = document.createElementNS(SVG_NS, "polygon");
    this.area.setAttribute("class", "area");
    this.line = document.createElementNS(SVG_NS, "polyline");
    this.line.setAttribute("class", "line");
    this.svg.append(this.area, this.line);
    this.peak = document.createElement("span");
    this.peak.className = "peak";
    this.root.append(caption, this.svg, this.peak);
  }

  push(value) {
    this.values.push(Math.max(0, value));
    if (this.values.length > this.capacity)
      this.values.shift();
    this.draw();
  }

  draw() {
    const n = this.values.length;
    const peak = Math.max(0, ...this.values);
    const max = Math.max(1, peak);
    const step = this.width / Math.max(1, this.capacity - 1);
    // Newest sample at the right edge; the chart fills from the right.
    const x0 = this.width - (n - 1) * step;
    const points = this.values.map((v, i) => {
      const x = x0 + i * step;
      const y = this.height - 2 - (v / max) * (this.height - 4);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    this.line.setAttribute("points", points.join(" "));
    this.area.setAttribute("points", n === 0 ? "" :
      `${x0.toFixed(1)},${this.height} ${points.join(" ")} ${this.width},${this.height}`);
    this.svg.dataset.samples = String(n);
    const last = n ? this.values[n - 1] : 0;
    this.current.textContent = `${formatNumber(last)} ${this.unit}`;
    this.peak.textContent = `max ${formatNumber(peak)}`;
    this.svg.setAttribute("aria-label",
      `${this.title.textContent}: ${formatNumber(last)} ${this.unit}`);
  }
}

function formatNumber(x) {
  return Math.round(x).toLocaleString("en-US");
}
