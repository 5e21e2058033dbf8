// The minimal app shell: boots the worker through localocr.js, shows progress, reads an opened image.
import { createOCR } from "./localocr.js";

const $ = (id) => document.getElementById(id);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

function status(text, isError = false) {
  $("status-text").textContent = text;
  $("status").classList.toggle("error", isError);
}

function showInfo(info) {
  const rows = {
    Python: `Pyodide ${info.pyodide}`,
    Inference: `onnxruntime-web ${info.ort}, ${info.threads} thread(s): ${info.threadsWhy}`,
    Downloaded: mb(info.bytes),
    "Start-up": `${Math.round(info.timings.total_ms)} ms`,
  };
  const dl = $("runtime-info");
  dl.replaceChildren();
  for (const [k, v] of Object.entries(rows)) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = k;
    dd.textContent = v;
    dl.append(dt, dd);
  }
  dl.hidden = false;
}

const ocr = createOCR({
  onProgress: (p) => {
    $("status-bar").hidden = false;
    status(`${p.message} (${mb(p.bytes)})`);
  },
});
// Tests and the console can reach the running instance.
globalThis.localocr = ocr;

ocr.ready.then(
  (info) => {
    $("status-bar").hidden = true;
    status("Ready. Open an image.");
    showInfo(info);
    $("file").disabled = false;
    document.documentElement.dataset.ready = "true";
  },
  (err) => {
    $("status-bar").hidden = true;
    status(`Could not start: ${err.message}`, true);
    document.documentElement.dataset.ready = "error";
  },
);

$("file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  $("output").hidden = false;
  $("preview").src = URL.createObjectURL(file);
  $("text").textContent = "";
  status(`Reading ${file.name}…`);
  try {
    const page = await ocr.read(file);
    $("text").textContent = page.text;
    status(`Read ${file.name}.`);
  } catch (err) {
    status(`Could not read ${file.name}: ${err.message}`, true);
  }
});
