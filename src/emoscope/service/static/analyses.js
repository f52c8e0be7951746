// One analysis in the file panel: following its job until it is done, and showing its result
// (overall bars, timeline, summary line).
import { $, sleep } from "./dom.js";
import { api, clearError, showError } from "./api.js";
import { formatDuration, formatWhen, setLabel } from "./charts.js";

// The result panel's bars and timeline (made by main.js), and which request may fill it: a new
// file or history row bumps the token, and an older follow() then gives up.
export const result = {
  bars: null,
  timeline: null,
  shownId: null,
  token: 0,
};

export function fileStatus(text) { $("file-status").textContent = text; }

function overallOf(analysis) {
  if (analysis.probabilities && Object.keys(analysis.probabilities).length) {
    return analysis.probabilities;
  }
  const segs = (analysis.segments || []).filter((s) => s.probabilities);
  if (!segs.length) return null;
  const sums = {};
  let total = 0;
  for (const s of segs) {
    const w = Math.max(1e-6, s.end - s.start);
    total += w;
    for (const [k, p] of Object.entries(s.probabilities)) sums[k] = (sums[k] || 0) + w * p;
  }
  for (const k of Object.keys(sums)) sums[k] /= total;
  return sums;
}

function argmax(probs) {
  let best = null;
  for (const [k, p] of Object.entries(probs || {})) if (!best || p > best[1]) best = [k, p];
  return best ? best[0] : null;
}

export function fileNameOf(a) {
  return a.filename || (a.source === "stream" ? "live recording" : "unnamed recording");
}

function showAnalysis(a) {
  const box = $("result");
  box.hidden = false;
  box.dataset.id = a.id;
  box.dataset.status = a.status;
  const probs = overallOf(a);
  const label = a.label || argmax(probs);
  setLabel($("result-label"), label, false);
  result.bars.reset();
  if (probs) result.bars.show(probs);
  const segs = a.segments || [];
  result.timeline.set(segs, a.duration);
  $("result-empty").hidden = !(a.status === "done" && segs.length === 0);
  const parts = [fileNameOf(a)];
  if (a.duration !== undefined && a.duration !== null) parts.push(formatDuration(a.duration));
  parts.push(`${segs.length} segment${segs.length === 1 ? "" : "s"}`);
  if (a.created) parts.push(formatWhen(a.created));
  $("result-meta").textContent = parts.join(" · ");
  for (const row of document.querySelectorAll('[data-testid="history-row"]')) {
    row.classList.toggle("selected", row.dataset.id === String(a.id));
  }
}

export async function follow(id, name) {
  const mine = ++result.token;
  result.shownId = id;
  let delay = 300;
  for (;;) {
    const a = await api(`v1/analyses/${encodeURIComponent(id)}`);
    if (mine !== result.token) return null;  // another file or history row took over
    $("file-panel").dataset.status = a.status;
    if (a.status === "done") {
      fileStatus(`Done: ${name || fileNameOf(a)}.`);
      showAnalysis(a);
      return a;
    }
    if (a.status === "failed") {
      const e = a.error;
      const why = (e && typeof e === "object" ? e.message : e) || a.message || "unknown reason";
      fileStatus(`Failed: ${name || fileNameOf(a)}.`);
      showError(`The analysis failed: ${why}`);
      $("result").hidden = true;
      return a;
    }
    const pct = typeof a.progress === "number" ? ` ${Math.round(a.progress * 100)}%` : "";
    fileStatus(`${a.status === "running" ? "Analysing" : "Waiting in the queue"}${pct}: `
      + `${name || fileNameOf(a)}…`);
    await sleep(delay);
    delay = Math.min(1500, delay * 1.4);
  }
}

// Shows a past analysis (a history row's Show button).
export async function openAnalysis(id, name) {
  clearError();
  fileStatus(`Loading ${name}…`);
  await follow(id, name);
  $("result").scrollIntoView({ block: "nearest", behavior: "smooth" });
}
