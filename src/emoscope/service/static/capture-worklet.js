// AudioWorklet processor: mixes the microphone's channels to mono and posts float32 blocks of
// about 0.1 s to the page, which converts and streams them to the server.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const seconds = (options && options.processorOptions && options.processorOptions.seconds) || 0.1;
    this.size = Math.max(128, Math.round(sampleRate * seconds));
    this.buf = new Float32Array(this.size);
    this.fill = 0;
    this.running = true;
    this.port.onmessage = (e) => {
      if (e.data === "flush") {
        this.flush();
        this.port.postMessage({ type: "flushed" });
      } else if (e.data === "stop") {
        this.flush();
        this.running = false;
        this.port.postMessage({ type: "flushed" });
      }
    };
  }

  flush() {
    if (this.fill > 0) {
      const out = this.buf.slice(0, this.fill);
      this.port.postMessage({ type: "audio", samples: out }, [out.buffer]);
      this.fill = 0;
    }
  }

  process(inputs) {
    if (!this.running) return false;
    const input = inputs[0];
    if (!input || input.length === 0 || !input[0]) return true;
    const n = input[0].length;
    const channels = input.length;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += input[c][i];
      this.buf[this.fill++] = s / channels;
      if (this.fill === this.size) {
        const out = this.buf;
        this.port.postMessage({ type: "audio", samples: out }, [out.buffer]);
        this.buf = new Float32Array(this.size);
        this.fill = 0;
      }
    }
    return true;
  }
}

registerProcessor("emoscope-capture", CaptureProcessor);
