// Live analysis: the microphone (capture-worklet.js, or a ScriptProcessor where worklets are
// missing), 16-bit PCM sent over the /v1/stream WebSocket, and the events it answers with.
import { $, sleep } from "./dom.js";
import { clearError, getToken, messageOf, needToken, showError } from "./api.js";
import { SILENCE, setLabel } from "./charts.js";
import { loadHistory } from "./history.js";

const TARGET_RATE = 16000;

// The bars and timeline (made by main.js) and the session being recorded, if any.
export const live = {
  bars: null,
  timeline: null,
  session: null,
};

function liveStatus(text) { $("live-status").textContent = text; }

function wsUrl() {
  const url = new URL("v1/stream", document.baseURI);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const token = getToken();
  if (token) url.searchParams.set("token", token);
  return url.toString();
}

function floatToPcm16(samples) {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    out[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
  }
  return out.buffer;
}

async function openAudio() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error("This browser cannot record here: the page must be opened over https "
      + "or from localhost.");
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false,
        autoGainControl: false },
    });
  } catch (err) {
    const why = err && err.name === "NotAllowedError" ? "permission was refused"
      : err && err.name === "NotFoundError" ? "no microphone was found" : messageOf(err);
    throw new Error(`Cannot use the microphone: ${why}.`);
  }
  const Ctx = window.AudioContext || window.webkitAudioContext;
  let ctx = null;
  let source = null;
  try {
    // Let the browser resample to 16 kHz (what the model uses) where it can...
    ctx = new Ctx({ sampleRate: TARGET_RATE });
    source = ctx.createMediaStreamSource(stream);
  } catch {
    // ... else send the device's own rate: the server resamples.
    if (ctx) ctx.close().catch(() => {});
    ctx = new Ctx();
    source = ctx.createMediaStreamSource(stream);
  }
  if (ctx.state === "suspended") await ctx.resume();
  return { stream, ctx, source };
}

// Calls fn once; later calls return the first call's promise.
function once(fn) {
  let result = null;
  return () => {
    if (!result) result = Promise.resolve().then(fn);
    return result;
  };
}

async function startCapture(audio, onSamples) {
  const { ctx, source } = audio;
  const mute = ctx.createGain();
  mute.gain.value = 0;
  mute.connect(ctx.destination);
  if (ctx.audioWorklet && window.AudioWorkletNode) {
    try {
      await ctx.audioWorklet.addModule(new URL("static/capture-worklet.js", document.baseURI));
      const node = new AudioWorkletNode(ctx, "emoscope-capture", {
        numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
        processorOptions: { seconds: 0.1 },
      });
      node.port.onmessage = (e) => {
        if (e.data && e.data.type === "audio") onSamples(e.data.samples);
        else if (e.data && e.data.type === "flushed" && audio.onFlushed) audio.onFlushed();
      };
      source.connect(node);
      node.connect(mute);
      $("live-panel").dataset.capture = "worklet";
      return {
        stop: once(() => new Promise((resolve) => {
          const done = () => { audio.onFlushed = null; resolve(); };
          audio.onFlushed = done;
          node.port.postMessage("stop");
          setTimeout(done, 500);
        }).then(() => { source.disconnect(); node.disconnect(); mute.disconnect(); })),
      };
    } catch {
      // fall through to the ScriptProcessor path
    }
  }
  const proc = ctx.createScriptProcessor(4096, 1, 1);
  proc.onaudioprocess = (e) => {
    const input = e.inputBuffer;
    const n = input.length;
    const mono = new Float32Array(n);
    for (let c = 0; c < input.numberOfChannels; c++) {
      const data = input.getChannelData(c);
      for (let i = 0; i < n; i++) mono[i] += data[i] / input.numberOfChannels;
    }
    onSamples(mono);
  };
  source.connect(proc);
  proc.connect(mute);
  $("live-panel").dataset.capture = "script-processor";
  return {
    stop: once(() => {
      proc.onaudioprocess = null;
      source.disconnect();
      proc.disconnect();
      mute.disconnect();
    }),
  };
}

function closeAudio(audio) {
  if (!audio) return;
  for (const track of audio.stream.getTracks()) track.stop();
  if (audio.ctx.state !== "closed") audio.ctx.close().catch(() => {});
}

function setRecording(on) {
  document.body.classList.toggle("recording", on);
  $("record").disabled = on;
  $("stop").disabled = !on;
}

function onLiveEvent(session, ev) {
  const time = Number(ev.time ?? ev.end);
  const start = Math.max(Number(ev.start), session.lastEnd);
  const end = Number(ev.end ?? time);
  session.events += 1;
  if (ev.speech === false || ev.label === SILENCE) {
    if (end > start) live.timeline.add(start, end, SILENCE, {});
    session.lastEnd = Math.max(session.lastEnd, end);
    setLabel($("live-label"), SILENCE, true);
    liveStatus("Listening… (pause)");
  } else {
    if (end > start) live.timeline.add(start, end, ev.label, ev.probabilities);
    session.lastEnd = Math.max(session.lastEnd, end);
    setLabel($("live-label"), ev.label, false);
    live.bars.show(ev.probabilities);
    liveStatus("Listening…");
  }
  $("live-panel").dataset.events = String(session.events);
}

export async function startRecording() {
  if (live.session) return;
  clearError();
  setRecording(true);
  liveStatus("Opening the microphone…");
  let audio;
  try {
    audio = await openAudio();
  } catch (err) {
    setRecording(false);
    liveStatus("Press Record and speak.");
    throw err;
  }
  const session = {
    audio, ws: null, capture: null, events: 0, lastEnd: 0, sent: 0,
    rate: audio.ctx.sampleRate, stopping: false, ended: false, failed: null, resolveEnd: null,
    analysisId: null,
  };
  live.session = session;
  live.timeline.clear();
  live.bars.reset();
  setLabel($("live-label"), null);
  $("live-time").textContent = "0.0 s";
  $("live-panel").dataset.events = "0";
  delete $("live-panel").dataset.analysisId;
  $("live-panel").dataset.state = "connecting";
  liveStatus("Connecting…");

  try {
    await connectStream(session);
  } catch (err) {
    finishSession(session);
    // Stopped while connecting, or the server's message is shown already.
    if (!session.stopping && !session.failed) throw err;
    return;
  }
  if (session.stopping) return;  // Stop was pressed while connecting
  session.capture = await startCapture(audio, (samples) => {
    const ws = session.ws;
    if (session.ended || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(floatToPcm16(samples));
    session.sent += samples.length;
    const seconds = session.sent / session.rate;
    $("live-time").textContent = `${seconds.toFixed(1)} s`;
    live.timeline.grow(seconds);
  });
  $("live-panel").dataset.state = "recording";
  liveStatus("Listening… speak now.");
}

function connectStream(session) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (message) => {
      if (!settled) { settled = true; reject(new Error(message)); }
    };
    const ws = new WebSocket(wsUrl());
    ws.binaryType = "arraybuffer";
    session.ws = ws;
    const timer = setTimeout(() => fail("The server did not answer the stream request."), 15000);
    ws.onopen = () => {
      ws.send(JSON.stringify({
        type: "start", sample_rate: session.rate, format: "pcm_s16le", analysis: true,
      }));
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== "string") return;
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (msg.type === "ready") {
        clearTimeout(timer);
        session.analysisId = msg.analysis_id || null;
        if (session.analysisId) $("live-panel").dataset.analysisId = session.analysisId;
        if (!settled) { settled = true; resolve(); }
      } else if (msg.type === "event") {
        onLiveEvent(session, msg);
      } else if (msg.type === "end") {
        session.ended = true;
        session.analysisId = msg.analysis_id || session.analysisId;
        if (session.resolveEnd) session.resolveEnd();
        ws.close(1000);
      } else if (msg.type === "error" || msg.error) {
        // {"type": "error", "code", "message"}; the server then closes the connection.
        const detail = msg.error && typeof msg.error === "object" ? msg.error : msg;
        const text = detail.message || (typeof msg.error === "string" ? msg.error : "")
          || "the live stream failed";
        session.failed = text;
        if (detail.code === "unauthorized") needToken(`The live stream was refused: ${text}`);
        else showError(`Live stream: ${text}`);
        fail(text);
      }
    };
    ws.onerror = () => {
      fail("The live stream could not connect to the server.");
    };
    ws.onclose = (e) => {
      clearTimeout(timer);
      if (!settled) {
        // The error message (if any) came just before; else say what the close said.
        if (!session.failed && !session.stopping) {
          showError(e.reason ? `The live stream closed: ${e.reason}`
            : "The server closed the live stream.");
        }
        fail(session.failed || e.reason || "The server closed the live stream.");
      } else if (live.session === session && !session.stopping) {
        if (!session.ended && !session.failed) {
          showError(e.reason ? `The live stream closed: ${e.reason}`
            : "The live stream closed unexpectedly.");
        }
        finishSession(session);
      }
      if (session.resolveEnd) session.resolveEnd();
    };
  });
}

export async function stopRecording() {
  const session = live.session;
  if (!session || session.stopping) return;
  session.stopping = true;
  $("stop").disabled = true;
  liveStatus("Finishing…");
  if (session.capture) await session.capture.stop();
  closeAudio(session.audio);
  const ws = session.ws;
  if (ws && ws.readyState === WebSocket.OPEN && !session.ended) {
    const ended = new Promise((resolve) => { session.resolveEnd = resolve; });
    ws.send(JSON.stringify({ type: "stop" }));
    await Promise.race([ended, sleep(15000)]);
  }
  finishSession(session);
  if (session.analysisId) loadHistory().catch(() => {});
}

export function finishSession(session) {
  if (session.capture) session.capture.stop().catch(() => {});
  closeAudio(session.audio);
  if (session.ws && session.ws.readyState <= WebSocket.OPEN) {
    try { session.ws.close(1000); } catch { /* already closing */ }
  }
  if (live.session === session) live.session = null;
  setRecording(false);
  $("live-panel").dataset.state = session.ended ? "ended" : "stopped";
  const secs = session.sent / session.rate;
  liveStatus(session.events
    ? `Stopped: ${secs.toFixed(1)} s recorded, ${session.events} update${session.events === 1 ? "" : "s"}.`
    : `Stopped after ${secs.toFixed(1)} s. Press Record and speak.`);
}
