// emoscope web page: live microphone analysis over the WebSocket, file analyses, history.
// Plain JavaScript, no build step and no external assets. Every server string reaches the page
// through textContent, never as HTML.
"use strict";

(() => {
  const TOKEN_KEY = "emoscope.token";
  const HISTORY_PAGE = 20;
  const TARGET_RATE = 16000;
  const SILENCE = "silence";
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

  const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) node.append(c);
    return node;
  };
  const SVG_NS = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs = {}) => {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  const state = {
    labels: [],
    colors: {},
    token: readToken(),
    ready: false,
  };

  // ---------------------------------------------------------------- storage and errors

  function readToken() {
    try { return localStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
  }

  function writeToken(value) {
    state.token = value;
    try {
      if (value) localStorage.setItem(TOKEN_KEY, value);
      else localStorage.removeItem(TOKEN_KEY);
    } catch { /* storage disabled: keep the token for this page only */ }
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function showError(message) {
    $("error-message").textContent = message;
    $("error").hidden = false;
  }

  function clearError() {
    $("error").hidden = true;
    $("error-message").textContent = "";
  }

  function messageOf(err) {
    if (err instanceof ApiError) return err.message;
    if (err && err.message) return err.message;
    return String(err);
  }

  // Runs an async handler; any failure ends up in the error banner, never in the console.
  function guard(fn) {
    return (...args) => {
      Promise.resolve()
        .then(() => fn(...args))
        .catch((err) => {
          // A 401 has already asked for the token, with the server's reason.
          if (!(err instanceof ApiError && err.status === 401)) showError(messageOf(err));
        });
    };
  }

  function needToken(message) {
    const form = $("token-form");
    form.hidden = false;
    showError(message || "This server needs an access token.");
    $("token-input").focus();
  }

  // Reads a JSON error body ({"error": {"code", "message"}}), or whatever the server said.
  async function errorFrom(resp) {
    let code = `http_${resp.status}`;
    let message = `${resp.status} ${resp.statusText || "error"}`.trim();
    const text = await resp.text().catch(() => "");
    if (text) {
      try {
        const body = JSON.parse(text);
        const e = body && body.error;
        if (e && typeof e === "object") {
          code = e.code || code;
          message = e.message || message;
        } else if (typeof e === "string") {
          message = e;
        } else if (body && body.detail) {
          message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
        }
      } catch {
        message = text.slice(0, 300);
      }
    }
    return new ApiError(resp.status, code, message);
  }

  async function api(path, options = {}) {
    const headers = new Headers(options.headers || {});
    headers.set("Accept", "application/json");
    if (state.token) headers.set("Authorization", `Bearer ${state.token}`);
    let resp;
    try {
      resp = await fetch(new URL(path, document.baseURI), { ...options, headers });
    } catch (err) {
      throw new ApiError(0, "network", `Cannot reach the server (${messageOf(err)}).`);
    }
    if (!resp.ok) {
      const err = await errorFrom(resp);
      if (resp.status === 401) {
        needToken(state.token ? `The access token was refused: ${err.message}`
          : `This server needs an access token: ${err.message}`);
      }
      throw err;
    }
    if (resp.status === 204) return null;
    return resp.json();
  }

  // ---------------------------------------------------------------- labels and colours

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

  function swatch(label) {
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

  class Bars {
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

  class Timeline {
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

  function formatDuration(d) {
    if (d === null || d === undefined || Number.isNaN(Number(d))) return "–";
    d = Number(d);
    return d < 60 ? `${d.toFixed(1)} s` : formatClock(d);
  }

  function formatWhen(value) {
    if (!value) return "–";
    const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    if (Number.isNaN(date.getTime())) return String(value);
    const today = new Date();
    const sameDay = date.toDateString() === today.toDateString();
    return sameDay
      ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
      : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  function setLabel(node, label, muted) {
    node.replaceChildren();
    if (!label) { node.textContent = "—"; return; }
    node.append(swatch(label), el("span", { text: label === SILENCE ? "silence" : label }));
    node.dataset.label = label;
    node.style.opacity = muted ? "0.55" : "";
  }

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
    state.labels = labels.map(String);
    state.colors = {};
    for (const l of state.labels) colorOf(l);
    renderLegend();
    const name = typeof model.model === "string" ? model.model : model.name || "model";
    const version = model.version ? ` (${String(model.version).slice(0, 12)})` : "";
    $("model-name").textContent = `${name}${version} · ${state.labels.length} emotions`;
    const card = typeof model.model_card === "string" ? model.model_card.trim() : "";
    $("model-card").hidden = !card;
    $("model-card-text").textContent = card;
    live.bars.reset();
    result.bars.reset();
    state.ready = true;
    return model;
  }

  // ---------------------------------------------------------------- live recording

  const live = {
    bars: null,
    timeline: null,
    session: null,
  };

  function liveStatus(text) { $("live-status").textContent = text; }

  function wsUrl() {
    const url = new URL("v1/stream", document.baseURI);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (state.token) url.searchParams.set("token", state.token);
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

  async function startRecording() {
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

  async function stopRecording() {
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

  function finishSession(session) {
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

  // ---------------------------------------------------------------- file analyses

  const result = {
    bars: null,
    timeline: null,
    shownId: null,
    token: 0,
  };

  function fileStatus(text) { $("file-status").textContent = text; }

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

  function fileNameOf(a) {
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

  async function follow(id, name) {
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

  async function analyseFile(file) {
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

  // ---------------------------------------------------------------- history

  const history = { offset: 0, total: null };

  function historyItems(data) {
    if (Array.isArray(data)) return data;
    return data.items || data.analyses || data.results || data.data || [];
  }

  async function loadHistory(more = false) {
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

  async function openAnalysis(id, name) {
    clearError();
    fileStatus(`Loading ${name}…`);
    await follow(id, name);
    $("result").scrollIntoView({ block: "nearest", behavior: "smooth" });
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

    $("token-input").value = state.token;
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
})();
