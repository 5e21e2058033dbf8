// pwa.js: the app's offline side. Registers sw.js (after the page has loaded, so precaching does not
// compete with the first start), offers a new version when one is installed, checks the cache once
// the page is idle, and hands files to the app that the OS opened with it (file handlers, share target).
//
// State for the page, tests and the console: document.documentElement.dataset.pwa is
//   "unsupported" | "registered" | "offline-ready" | "update-ready" | "error"
// (and dataset.pwaUpdate = "failed" after an update whose files did not verify),
// and globalThis.localocrPWA = {status(), verify(), update(), applyUpdate()}.
//
// Files reach the app as a cancelable `localocr:open-files` event on window ({detail: {files}}); when
// nobody cancels it, they are put into the page's first <input type="file"> and a change event fires.
import { scriptURL } from "./trusted-types.js";

const root = document.documentElement;
const sw = navigator.serviceWorker;
const SW_URL = new URL("sw.js", import.meta.url);
// 10 s after load: the app's own start-up (Pyodide, models: 5-10 s on a slow, busy machine) goes
// first, then the integrity check (hashing ~35 MB costs a few hundred ms of a core).
const VERIFY_DELAY_MS = 10000;

function setState(state) { root.dataset.pwa = state; }

function ask(message) {
  return new Promise((resolve, reject) => {
    const target = sw && sw.controller;
    if (!target) { reject(new Error("no service worker controls this page yet")); return; }
    const channel = new MessageChannel();
    channel.port1.onmessage = ({ data }) => resolve(data);
    target.postMessage(message, [channel.port2]);
  });
}

function openFiles(files) {
  if (!files.length) return;
  const event = new CustomEvent("localocr:open-files", { detail: { files }, cancelable: true });
  if (!window.dispatchEvent(event)) return;          // the app took them
  const input = document.querySelector('input[type="file"]');
  if (!input) return;
  const transfer = new DataTransfer();
  for (const f of files) transfer.items.add(f);
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

// File Handling API: the installed app was chosen to open image files.
if ("launchQueue" in window) {
  window.launchQueue.setConsumer(async ({ files }) => {
    if (files && files.length) openFiles(await Promise.all(files.map((handle) => handle.getFile())));
  });
}

// Share target: sw.js left the shared images in the inbox cache.
async function collectShared() {
  if (new URLSearchParams(location.search).get("source") !== "share-target") return;
  const inbox = await caches.open(`localocr-inbox:${new URL("./", SW_URL).pathname}`);
  const files = [];
  for (const request of await inbox.keys()) {
    const response = await inbox.match(request);
    const name = decodeURIComponent(response.headers.get("X-Filename") || "shared-image");
    files.push(new File([await response.blob()], name, { type: response.headers.get("Content-Type") || "" }));
    await inbox.delete(request);
  }
  openFiles(files);
}

function showUpdatePrompt(waiting) {
  setState("update-ready");
  if (document.querySelector(".localocr-update")) return;
  if (!document.querySelector('link[href$="pwa.css"]')) {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = new URL("pwa.css", import.meta.url).href;
    document.head.append(css);
  }
  const bar = document.createElement("div");
  bar.className = "localocr-update";
  bar.setAttribute("role", "status");
  const text = document.createElement("span");
  text.textContent = "A new version of localocr is ready (it works offline too).";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Reload to update";
  button.addEventListener("click", () => applyUpdate(waiting));
  bar.append(text, button);
  document.body.append(bar);
}

let updating = false;
function applyUpdate(waiting) {
  updating = true;
  waiting.postMessage({ type: "skip-waiting" });   // controllerchange below reloads the page
}

async function start() {
  setState("registered");
  const hadController = Boolean(sw.controller);
  // A new version took over (here or in another tab): reload at once, so no page runs a mix of
  // old files already loaded and new ones fetched later.
  sw.addEventListener("controllerchange", () => {
    if (hadController || updating) location.reload();
  });
  // updateViaCache "none": the update check always asks the server for sw.js and precache.js.
  const reg = await sw.register(scriptURL(SW_URL), { updateViaCache: "none" });
  const watch = (worker) => worker.addEventListener("statechange", () => {
    if (worker.state === "installed" && sw.controller) showUpdatePrompt(worker);
    // An install that failed (a file missing or not matching its sha256): the old version stays.
    if (worker.state === "redundant" && reg.active && reg.active !== worker) {
      root.dataset.pwaUpdate = "failed";
      if (sw.controller) setState("offline-ready");
    }
  });
  if (reg.waiting && sw.controller) showUpdatePrompt(reg.waiting);
  if (reg.installing) watch(reg.installing);
  reg.addEventListener("updatefound", () => watch(reg.installing));
  await sw.ready;
  if (!sw.controller) await new Promise((resolve) => sw.addEventListener("controllerchange", resolve, { once: true }));
  if (root.dataset.pwa !== "update-ready") setState("offline-ready");
  globalThis.localocrPWA = {
    registration: reg,
    status: () => ask({ type: "status" }),
    verify: () => ask({ type: "verify" }),
    update: () => reg.update(),
    applyUpdate: () => reg.waiting && applyUpdate(reg.waiting),
  };
  setTimeout(() => globalThis.localocrPWA.verify().catch(() => {}), VERIFY_DELAY_MS);
}

if (!sw) {
  setState("unsupported");                        // e.g. http:// on a non-localhost host
} else {
  collectShared().catch((e) => console.warn("localocr: shared files lost:", e));
  const go = () => start().catch((e) => { setState("error"); console.warn("localocr: offline mode unavailable:", e); });
  if (document.readyState === "complete") go();
  else window.addEventListener("load", go, { once: true });
}
