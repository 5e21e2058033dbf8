// trusted-types.js: the one Trusted Types policy of localocr's pages and workers.
//
// The app runs under `require-trusted-types-for 'script'` (serve.py's CSP): a script URL handed to
// a sink (new Worker, serviceWorker.register, a worker's own new Worker) must be a TrustedScriptURL.
// Ours come from `scriptURL()`, whose policy ("localocr") accepts files of this origin only; in a
// worker, `installDefaultPolicy()` gives the same rule to code that passes plain URLs (onnxruntime-web
// starting its thread workers). A page whose CSP does not enforce Trusted Types gets plain URLs.
function sameOrigin(url) {
  const u = new URL(String(url), self.location.href);
  if (u.origin !== self.location.origin) {
    throw new TypeError(`localocr: refusing a script from another origin (${u.href})`);
  }
  return u.href;
}

let policy;
export function scriptURL(url) {
  if (policy === undefined) {
    try {
      policy = self.trustedTypes ? self.trustedTypes.createPolicy("localocr", { createScriptURL: sameOrigin }) : null;
    } catch (e) {
      // the page's `trusted-types` directive does not allow the name "localocr": a plain URL, which
      // works unless the page also requires Trusted Types (then the sink's own error names it)
      console.warn(`localocr: no Trusted Types policy (${e.message || e})`);
      policy = null;
    }
  }
  return policy ? policy.createScriptURL(String(url)) : String(url);
}

export function installDefaultPolicy() {
  if (!self.trustedTypes || self.trustedTypes.defaultPolicy) return;
  try {
    self.trustedTypes.createPolicy("default", { createScriptURL: sameOrigin });
  } catch (e) {
    console.warn(`localocr: no default Trusted Types policy (${e.message || e})`);
  }
}
