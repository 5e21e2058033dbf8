// readaloud.js: speaks a result line by line with the Web Speech API, on this device only.
//
// Only voices whose `localService` is true are offered: a network voice (Chrome's "Google ..."
// voices, Edge's "Online (Natural)" ones) sends the text to a server to be spoken, which is
// what localocr promises never to do. Where the browser has no local voice, read aloud says so
// and offers nothing.
//
//   ReadAloud       the controller: load(lines, lang), play/pause/toggle, next/previous, stop;
//                   one utterance per line, in reading order; `onChange` reports the line being
//                   read (the UI highlights it). No DOM of its own: testable with a fake synth.
//   readAloudBar    the controls for it (play/pause, previous/next line, voice, speed), used by
//                   the app and by <local-ocr>; a note replaces them when no local voice exists.
//
// Pause is a cancel that keeps the place: speechSynthesis.pause() is unreliable (Chrome on
// Android ignores it, Chrome on desktop stops resuming after ~15 s), and a line is short enough
// to start again. Rate and voice are remembered in localStorage, per language when it is known.

export const RATE_MIN = 0.5;
export const RATE_MAX = 2;
export const RATE_STEP = 0.1;
const STORAGE_KEY = "localocr.readaloud";
const ANY_LANGUAGE = "*";

// Errors an utterance ends with when we cancelled it ourselves: not failures.
const OUR_CANCELS = new Set(["interrupted", "canceled"]);

const langOf = (tag) => (tag || "").toLowerCase().split(/[-_]/)[0];

function safeStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;   // storage blocked (a sandboxed frame, some privacy settings): nothing is remembered
  }
}

export class ReadAloud {
  #synth;
  #Utterance;
  #storage;
  #onChange;
  #lines = [];
  #lang = null;
  #position = 0;
  #playing = false;
  #active = false;        // there is a place in the text (playing, or paused in it)
  #turn = 0;              // each utterance's events are ignored once a newer one started
  #voiceURI = null;
  #rate = 1;
  error = null;

  constructor({ synth = globalThis.speechSynthesis, Utterance = globalThis.SpeechSynthesisUtterance,
    storage = safeStorage(), onChange = () => {} } = {}) {
    this.#synth = synth || null;
    this.#Utterance = Utterance || null;
    this.#storage = storage;
    this.#onChange = onChange;
    // Chrome fills getVoices() asynchronously: the offer changes when the list arrives.
    this.#synth?.addEventListener?.("voiceschanged", () => this.#changed());
  }

  get supported() { return Boolean(this.#synth && this.#Utterance); }

  // Local voices only, those of the text's language first.
  voices() {
    if (!this.supported) return [];
    const want = langOf(this.#lang);
    const local = Array.from(this.#synth.getVoices() || []).filter((v) => v.localService === true);
    const rank = (v) => (want && langOf(v.lang) === want ? 0 : 1);
    return local.sort((a, b) => rank(a) - rank(b));
  }

  // Why read aloud is off, in words; null when it can be used.
  get unavailable() {
    if (!this.supported) return "This browser cannot read text aloud (it has no speech synthesis).";
    const all = Array.from(this.#synth.getVoices() || []);
    if (this.voices().length) return null;
    if (all.length) {
      return "Read aloud is off: this browser's voices are network voices, which would send the text " +
        "away to be spoken. Install a voice on this device (in the system's speech settings) to use it.";
    }
    return "Read aloud is off: this browser has no voice installed on this device.";
  }

  get voice() {
    const voices = this.voices();
    return voices.find((v) => v.voiceURI === this.#voiceURI)
      || voices.find((v) => v.default && (!this.#lang || langOf(v.lang) === langOf(this.#lang)))
      || voices[0] || null;
  }

  get rate() { return this.#rate; }
  get playing() { return this.#playing; }
  get position() { return this.#position; }
  get count() { return this.#lines.length; }
  // The reading-order index of the line being read (or where reading resumes); null: none.
  get line() { return this.#active ? this.#lines[this.#position].index : null; }

  // New text: [{text, index}] in reading order; lang: a BCP 47 tag when known (remembers per language).
  load(lines, lang = null) {
    this.stop();
    this.#lines = lines.filter((l) => l.text && l.text.trim());
    this.#lang = lang;
    const prefs = this.#prefs()[lang ? langOf(lang) : ANY_LANGUAGE] || {};
    this.#voiceURI = prefs.voice || null;
    this.#rate = clampRate(prefs.rate ?? 1);
    this.#changed();
  }

  play() {
    if (!this.#lines.length || !this.voice) return;
    this.#playing = true;
    this.#active = true;
    this.error = null;
    this.#speak();
  }

  pause() {
    if (!this.#playing) return;
    this.#playing = false;
    this.#turn += 1;
    this.#synth.cancel();
    this.#changed();
  }

  toggle() { if (this.#playing) this.pause(); else this.play(); }

  next() { this.#move(+1); }

  previous() { this.#move(-1); }

  stop() {
    this.#playing = false;
    this.#active = false;
    this.#turn += 1;
    this.#position = 0;
    if (this.supported) this.#synth.cancel();
    this.#changed();
  }

  setRate(rate) {
    this.#rate = clampRate(rate);
    this.#save();
    if (this.#playing) this.#speak();
    else this.#changed();
  }

  setVoice(voiceURI) {
    this.#voiceURI = voiceURI;
    this.#save();
    if (this.#playing) this.#speak();
    else this.#changed();
  }

  #move(step) {
    if (!this.#lines.length) return;
    const to = Math.min(this.#lines.length - 1, Math.max(0, this.#position + step));
    if (to === this.#position && this.#active) return;
    this.#position = to;
    this.#active = true;
    if (this.#playing) this.#speak();
    else this.#changed();     // paused: the place moves (and is highlighted), nothing is said
  }

  #speak() {
    const turn = ++this.#turn;
    const synth = this.#synth;
    synth.cancel();
    if (synth.paused) synth.resume();
    const voice = this.voice;
    const u = new this.#Utterance(this.#lines[this.#position].text);
    u.voice = voice;
    u.lang = voice.lang || this.#lang || "";
    u.rate = this.#rate;
    u.addEventListener("end", () => {
      if (turn !== this.#turn) return;
      if (this.#position < this.#lines.length - 1) {
        this.#position += 1;
        this.#speak();
      } else {
        this.#playing = false;
        this.#active = false;
        this.#position = 0;     // the end: the next play starts from the top
        this.#turn += 1;
        this.#changed();
      }
    });
    u.addEventListener("error", (event) => {
      if (turn !== this.#turn || OUR_CANCELS.has(event.error)) return;
      this.#playing = false;
      this.#turn += 1;
      this.error = `The voice stopped (${event.error || "error"}).`;
      this.#changed();
    });
    this.#changed();
    synth.speak(u);
  }

  #prefs() {
    try {
      return JSON.parse(this.#storage?.getItem(STORAGE_KEY) || "{}") || {};
    } catch {
      return {};
    }
  }

  #save() {
    if (!this.#storage) return;
    const prefs = this.#prefs();
    prefs[this.#lang ? langOf(this.#lang) : ANY_LANGUAGE] = { voice: this.voice?.voiceURI || null, rate: this.#rate };
    try {
      this.#storage.setItem(STORAGE_KEY, JSON.stringify(prefs));
    } catch {
      // storage full or refused: the choice holds for this visit only
    }
  }

  #changed() { this.#onChange(this); }
}

function clampRate(rate) {
  const r = Number(rate);
  if (!Number.isFinite(r)) return 1;
  return Number((Math.round(Math.min(RATE_MAX, Math.max(RATE_MIN, r)) / RATE_STEP) * RATE_STEP).toFixed(1));
}

// ---------------------------------------------------------------- the controls

function node(doc, tag, attrs = {}, text) {
  const n = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}

// The read-aloud controls for `reader` (a ReadAloud), in `doc`; returns {root, update}. Call
// update() from the reader's onChange. Tab order: play/pause, previous, next, voice, speed.
export function readAloudBar(doc, reader) {
  const root = node(doc, "div", { class: "readaloud", role: "group", "aria-label": "Read aloud" });
  const play = node(doc, "button", { type: "button", class: "ra-play" }, "Read aloud");
  const prev = node(doc, "button", { type: "button", class: "ra-prev" }, "Previous line");
  const next = node(doc, "button", { type: "button", class: "ra-next" }, "Next line");
  const voiceLabel = node(doc, "label", { class: "ra-field" }, "Voice ");
  const voice = node(doc, "select", { class: "ra-voice" });
  voiceLabel.append(voice);
  const rateLabel = node(doc, "label", { class: "ra-field" }, "Speed ");
  const rate = node(doc, "input", { type: "range", class: "ra-rate", min: RATE_MIN, max: RATE_MAX, step: RATE_STEP });
  const rateOut = node(doc, "span", { class: "ra-rate-value", "aria-hidden": "true" });
  rateLabel.append(rate, rateOut);
  const controls = node(doc, "div", { class: "ra-controls" });
  controls.append(play, prev, next, voiceLabel, rateLabel);
  const note = node(doc, "p", { class: "ra-note" });
  note.hidden = true;
  root.append(controls, note);

  play.addEventListener("click", () => reader.toggle());
  prev.addEventListener("click", () => reader.previous());
  next.addEventListener("click", () => reader.next());
  voice.addEventListener("change", () => reader.setVoice(voice.value));
  rate.addEventListener("input", () => reader.setRate(rate.value));

  let offered = "";
  function update() {
    const off = reader.unavailable;
    controls.hidden = Boolean(off);
    note.hidden = !off && !reader.error;
    note.textContent = off || reader.error || "";
    if (off) return;
    const voices = reader.voices();
    const key = voices.map((v) => v.voiceURI).join("\n");
    if (key !== offered) {         // rebuilt only when the offer changes (keeps an open list open)
      offered = key;
      voice.replaceChildren(...voices.map((v) => node(doc, "option", { value: v.voiceURI }, `${v.name} (${v.lang})`)));
    }
    voice.value = reader.voice ? reader.voice.voiceURI : "";
    rate.value = String(reader.rate);
    const speed = `${reader.rate.toFixed(1)}×`;
    rateOut.textContent = speed;
    rate.setAttribute("aria-valuetext", `${speed} speed`);
    play.textContent = reader.playing ? "Pause" : (reader.line !== null ? "Resume" : "Read aloud");
    const empty = reader.count === 0;
    play.disabled = empty;
    // aria-disabled, not disabled: a disabled button drops the keyboard focus of whoever pressed it
    prev.setAttribute("aria-disabled", String(empty || (reader.line !== null && reader.position === 0)));
    next.setAttribute("aria-disabled", String(empty || reader.position >= reader.count - 1));
  }
  update();
  return { root, update, play };
}
