// The table of past analyses, a page at a time.
import { $, el } from "./dom.js";
import { api, guard } from "./api.js";
import { formatDuration, formatWhen, swatch } from "./charts.js";
import { fileNameOf, openAnalysis } from "./analyses.js";

const HISTORY_PAGE = 20;

const history = { offset: 0, total: null };

function historyItems(data) {
  if (Array.isArray(data)) return data;
  return data.items || data.analyses || data.results || data.data || [];
}

export async function loadHistory(more = false) {
  const offset = more ? history.offset : 0;
  const data = await api(`v1/analyses?limit=${HISTORY_PAGE}&offset=${offset}`);
  const items = historyItems(data);
  history.total = data && typeof data.total === "number" ? data.total : null;
  const body = $("history-body");
  if (!more) body.replaceChildren();
  for (const a of items) body.append(historyRow(a));
  history.offset = offset + items.length;
  const shown = body.children.length;
  $("history-empty").hidden = shown > 0;
  $("history-more").hidden = history.total !== null ? shown >= history.total
    : items.length < HISTORY_PAGE;
}

function historyRow(a) {
  const name = fileNameOf(a);
  const show = el("button", { type: "button", class: "secondary",
    "data-testid": "history-show", "aria-label": `Show the analysis of ${name}`, text: "Show" });
  show.addEventListener("click", guard(() => openAnalysis(a.id, name)));
  const emotion = el("td", { class: "emotion" });
  if (a.label) emotion.append(swatch(a.label), el("span", { text: a.label }));
  else if (a.status === "done") emotion.textContent = "no speech";
  else emotion.append(el("span", { class: "muted", text: a.status || "–" }));
  const tr = el("tr", { "data-testid": "history-row", "data-id": a.id, "data-status": a.status },
    el("td", { text: formatWhen(a.created) }),
    el("td", { class: "file", title: name, text: name }),
    el("td", { text: formatDuration(a.duration) }),
    emotion,
    el("td", {}, el("span", { class: `pill ${a.status || ""}`, text: a.status || "–" })),
    el("td", {}, show));
  if (String(a.id) === String($("result").dataset.id)) tr.classList.add("selected");
  return tr;
}
