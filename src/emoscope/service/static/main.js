// emoscope web page: live microphone analysis over the WebSocket, file analyses, history.
// Plain JavaScript ES modules, no build step and no external assets; this one loads the model's
// description, wires the page's controls and starts it. Every server string reaches the page
// through textContent, never as HTML.
import { $ } from "./dom.js";
import { api, clearError, getToken, guard, writeToken } from "./api.js";
import { Bars, Timeline, setLabels } from "./charts.js";
import { finishSession, live, startRecording, stopRecording } from "./live.js";
import { result } from "./analyses.js";
import { analyseFile } from "./upload.js";
import { loadHistory } from "./history.js";

// ---------------------------------------------------------------- model and health

async function loadModel() {
  try {
    await api("health");
    $("health").dataset.state = "ok";
    $("health").title = "Server is up";
  } catch (err) {
    $("health").dataset.state = err.status === 401 ? "ok" : "down";
    if (err.status !== 401) throw err;
  }
  const info = await api("v1/models");
  const model = Array.isArray(info.models) ? info.models[0] : info;
  const labels = model.labels || [];
  setLabels(labels);
  const name = typeof model.model === "string" ? model.model : model.name || "model";
  const version = model.version ? ` (${String(model.version).slice(0, 12)})` : "";
  $("model-name").textContent = `${name}${version} · ${labels.length} emotions`;
  const card = typeof model.model_card === "string" ? model.model_card.trim() : "";
  $("model-card").hidden = !card;
  $("model-card-text").textContent = card;
  live.bars.reset();
  result.bars.reset();
  return model;
}

// ---------------------------------------------------------------- wiring

function wire() {
  live.bars = new Bars($("live-probs"));
  live.timeline = new Timeline($("live-timeline"));
  result.bars = new Bars($("result-probs"));
  result.timeline = new Timeline($("result-timeline"), { minSpan: 1 });
  live.timeline.render();

  $("record").addEventListener("click", guard(startRecording));
  $("stop").addEventListener("click", guard(stopRecording));
  $("error-dismiss").addEventListener("click", clearError);

  const input = $("file-input");
  input.addEventListener("change", guard(() => analyseFile(input.files && input.files[0])));
  const zone = $("drop-zone");
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("over"); });
  }
  for (const type of ["dragleave", "dragend"]) {
    zone.addEventListener(type, () => zone.classList.remove("over"));
  }
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const file = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    guard(analyseFile)(file);
  });
  // A file dropped beside the zone must not make the browser leave the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());

  $("history-refresh").addEventListener("click", guard(() => loadHistory()));
  $("history-more").addEventListener("click", guard(() => loadHistory(true)));

  $("token-input").value = getToken();
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    writeToken($("token-input").value.trim());
    clearError();
    guard(init)();
  });
  $("token-clear").addEventListener("click", () => {
    writeToken("");
    $("token-input").value = "";
  });
  window.addEventListener("beforeunload", () => {
    if (live.session) finishSession(live.session);
  });
}

async function init() {
  await loadModel();
  $("token-form").hidden = true;
  await loadHistory();
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  wire();
  guard(init)();
});
