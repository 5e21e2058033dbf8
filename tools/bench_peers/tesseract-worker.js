// The benchmark's tesseract.js worker (served as /tw/worker.js, passed as workerPath): the WASM heap
// probe (the app's web/wasm-heap.js), then tesseract.js's own worker script, from our origin.
// Under the app's CSP (Trusted Types required) importScripts takes only TrustedScriptURLs: a default
// policy for this origin's files, as web/trusted-types.js's installDefaultPolicy gives the app's workers
// (a classic worker cannot import that module).
if (self.trustedTypes && !self.trustedTypes.defaultPolicy) {
  self.trustedTypes.createPolicy("default", {
    createScriptURL(url) {
      const u = new URL(String(url), self.location.href);
      if (u.origin !== self.location.origin) throw new TypeError(`refusing a script from another origin (${u.href})`);
      return u.href;
    },
  });
}
importScripts("../wasm-heap.js", "../tesseract/worker.min.js");
