// What the page draws: the emotions' colours and legend, the probability bars, the SVG timeline,
// the current-label badge, and the time formatters.
import { $, el, svgEl } from "./dom.js";

export const SILENCE = "silence";

const COLORS = {
  angry: "#e03131", anger: "#e03131", frustrated: "#c2255c",
  happy: "#f59f00", happiness: "#f59f00", excited: "#fd7e14", joy: "#f59f00",
  neutral: "#868e96", calm: "#0ca678",
  sad: "#1c7ed6", sadness: "#1c7ed6",
  fearful: "#7048e8", fear: "#7048e8",
  disgust: "#2f9e44", disgusted: "#2f9e44",
  surprised: "#e64980", surprise: "#e64980",
  boredom: "#a9734a", bored: "#a9734a", contempt: "#5c940d",
  [SILENCE]: "#ced4da",
};
const SPARE_COLORS = ["#1098ad", "#ae3ec9", "#74b816", "#f76707", "#4263eb", "#d6336c",
  "#5f3dc4", "#087f5b"];

// ---------------------------------------------------------------- labels and colours

// The model's labels (in its order) and the colour given to each label seen.
const state = { labels: [], colors: {} };

// Takes the model's labels: colours them in order and redraws the legend.
export function setLabels(labels) {
  state.labels = labels.map(String);
  state.colors = {};
  for (const l of state.labels) colorOf(l);
  renderLegend();
}

function colorOf(label) {
  if (!label) return COLORS[SILENCE];
  if (!state.colors[label]) {
    const key = String(label).toLowerCase();
    if (COLORS[key]) state.colors[label] = COLORS[key];
    else {
      const used = Object.keys(state.colors).filter((l) => !COLORS[l.toLowerCase()]).length;
      state.colors[label] = SPARE_COLORS[used % SPARE_COLORS.length];
    }
  }
  return state.colors[label];
}

export function swatch(label) {
  const s = el("span", { class: "swatch", "aria-hidden": "true" });
  s.style.background = colorOf(label);
  return s;
}

function renderLegend() {
  const legend = $("legend");
  legend.replaceChildren();
  for (const label of [...state.labels, SILENCE]) {
    legend.append(el("li", { "data-label": label }, swatch(label),
      el("span", { text: label === SILENCE ? "no speech" : label })));
  }
}

// ---------------------------------------------------------------- probability bars

export class Bars {
  constructor(container) {
    this.container = container;
    this.rows = new Map();
  }

  reset() {
    this.container.replaceChildren();
    this.rows.clear();
    for (const label of state.labels) this.row(label);
  }

  row(label) {
    let row = this.rows.get(label);
    if (row) return row;
    const fill = el("div", { class: "bar-fill" });
    fill.style.background = colorOf(label);
    const track = el("div", {
      class: "bar-track", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100,
      "aria-valuenow": 0, "aria-label": label,
    }, fill);
    const value = el("span", { class: "bar-value", "data-testid": "prob-value",
      "data-value": "", text: "–" });
    row = el("div", { class: "bar-row", "data-testid": "prob-row", "data-label": label },
      el("span", { class: "bar-name", text: label }), track, value);
    row.fill = fill;
    row.track = track;
    row.value = value;
    this.container.append(row);
    this.rows.set(label, row);
    return row;
  }

  show(probabilities) {
    const entries = Object.entries(probabilities || {});
    if (!entries.length) return;
    let top = null;
    for (const [label, p] of entries) if (!top || p > top[1]) top = [label, p];
    for (const [label, p] of entries) {
      const row = this.row(label);
      const pct = Math.max(0, Math.min(1, Number(p))) * 100;
      row.fill.style.width = `${pct.toFixed(1)}%`;
      row.track.setAttribute("aria-valuenow", pct.toFixed(1));
      row.value.textContent = `${pct.toFixed(1)}%`;
      row.value.dataset.value = String(p);
      row.classList.toggle("is-top", label === top[0]);
    }
  }
}

// ---------------------------------------------------------------- timeline (SVG)

export class Timeline {
  constructor(svg, { minSpan = 10 } = {}) {
    this.svg = svg;
    this.minSpan = minSpan;
    this.segments = [];
    this.duration = 0;
    if (window.ResizeObserver) {
      new ResizeObserver(() => this.render()).observe(svg);
    } else {
      window.addEventListener("resize", () => this.render());
    }
  }

  clear() {
    this.segments = [];
    this.duration = 0;
    this.render();
  }

  set(segments, duration) {
    this.segments = segments.filter((s) => s.end > s.start)
      .map((s) => ({ start: s.start, end: s.end, label: s.label,
        probabilities: s.probabilities || {} }));
    const last = this.segments.length ? this.segments[this.segments.length - 1].end : 0;
    this.duration = Math.max(Number(duration) || 0, last);
    this.render();
  }

  // Live: appends [start, end], merging with the previous segment when it continues it.
  add(start, end, label, probabilities) {
    if (!(end > start)) return;
    const prev = this.segments[this.segments.length - 1];
    if (prev && prev.label === label && start - prev.end < 1e-6) {
      prev.end = end;
      prev.probabilities = probabilities || prev.probabilities;
    } else {
      this.segments.push({ start, end, label, probabilities: probabilities || {} });
    }
    this.duration = Math.max(this.duration, end);
    this.render();
  }

  grow(duration) {
    if (duration > this.duration + 0.25) {
      this.duration = duration;
      this.render();
    }
  }

  span() {
    if (this.duration <= this.minSpan) return this.minSpan;
    const step = this.duration <= 60 ? 10 : this.duration <= 600 ? 60 : 600;
    return Math.ceil(this.duration / step) * step;
  }

  render() {
    const svg = this.svg;
    const width = Math.max(200, Math.round(svg.clientWidth || 600));
    const height = 64;
    const barTop = 6;
    const barHeight = 34;
    const span = this.span();
    const x = (t) => (t / span) * width;
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.replaceChildren();
    const ticks = svgEl("g", { class: "axis", "aria-hidden": "true" });
    const every = niceStep(span / Math.max(2, Math.floor(width / 90)));
    for (let t = 0; t <= span + 1e-9; t += every) {
      const px = Math.min(width - 0.5, Math.max(0.5, x(t)));
      ticks.append(svgEl("line", { class: "tick", x1: px, x2: px, y1: barTop, y2: barTop + barHeight + 4 }));
      const label = svgEl("text", {
        x: px, y: height - 8, "text-anchor": t === 0 ? "start" : px > width - 20 ? "end" : "middle",
      });
      label.textContent = formatClock(t);
      ticks.append(label);
    }
    svg.append(ticks);
    const segs = svgEl("g", { class: "segments" });
    for (const s of this.segments) {
      const rect = svgEl("rect", {
        class: `seg${s.label === SILENCE ? " silence" : ""}`,
        "data-testid": "segment",
        "data-label": s.label,
        "data-start": s.start.toFixed(2),
        "data-end": s.end.toFixed(2),
        x: x(s.start).toFixed(2),
        y: barTop,
        width: Math.max(1.5, x(s.end) - x(s.start)).toFixed(2),
        height: barHeight,
        rx: 3,
        fill: colorOf(s.label),
      });
      const title = svgEl("title");
      title.textContent = `${s.label === SILENCE ? "no speech" : s.label}: `
        + `${s.start.toFixed(1)}–${s.end.toFixed(1)} s`;
      rect.append(title);
      segs.append(rect);
    }
    svg.append(segs);
    const words = this.segments.filter((s) => s.label !== SILENCE)
      .map((s) => `${s.label} from ${s.start.toFixed(1)} to ${s.end.toFixed(1)} s`);
    svg.setAttribute("aria-label", words.length
      ? `Emotion timeline: ${words.slice(0, 30).join("; ")}${words.length > 30 ? "; …" : ""}`
      : "Emotion timeline: no speech labelled yet");
    svg.dataset.segments = String(this.segments.length);
  }
}

function niceStep(raw) {
  const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  return steps.find((s) => s >= raw) || 3600 * Math.ceil(raw / 3600);
}

function formatClock(t) {
  if (t < 60) return `${Number.isInteger(t) ? t : t.toFixed(1)} s`;
  const m = Math.floor(t / 60);
  const s = Math.round(t % 60);
  if (m < 60) return `${m}:${String(s).padStart(2, "0")}`;
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

export function formatDuration(d) {
  if (d === null || d === undefined || Number.isNaN(Number(d))) return "–";
  d = Number(d);
  return d < 60 ? `${d.toFixed(1)} s` : formatClock(d);
}

export function formatWhen(value) {
  if (!value) return "–";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

export function setLabel(node, label, muted) {
  node.replaceChildren();
  if (!label) { node.textContent = "—"; return; }
  node.append(swatch(label), el("span", { text: label === SILENCE ? "silence" : label }));
  node.dataset.label = label;
  node.style.opacity = muted ? "0.55" : "";
}
