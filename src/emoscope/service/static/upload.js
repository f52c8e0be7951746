// Analysing a chosen or dropped file: upload it, follow the job, refresh the history.
import { $ } from "./dom.js";
import { ApiError, api, clearError, messageOf, showError } from "./api.js";
import { fileStatus, follow, result } from "./analyses.js";
import { loadHistory } from "./history.js";

export async function analyseFile(file) {
  if (!file) return;
  clearError();
  result.token += 1;
  $("file-panel").dataset.status = "uploading";
  fileStatus(`Uploading ${file.name} (${(file.size / 1024).toFixed(0)} KB)…`);
  const form = new FormData();
  form.append("file", file, file.name);
  let job;
  try {
    job = await api("v1/analyses", { method: "POST", body: form });
  } catch (err) {
    $("file-panel").dataset.status = "rejected";
    fileStatus(`Not analysed: ${file.name}.`);
    if (err instanceof ApiError && err.status === 401) throw err;
    showError(`${file.name}: ${messageOf(err)}`);
    return;
  } finally {
    $("file-input").value = "";
  }
  loadHistory().catch(() => {});
  await follow(job.id, file.name);
  loadHistory().catch(() => {});
}
