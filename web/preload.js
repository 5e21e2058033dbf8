// preload.js: requests files before the code that needs them asks, and hands each response to that
// code's own fetch() (issue 17). Pyodide and onnxruntime-web fetch their files one step after
// another (Pyodide's wasm, then its packages once Python runs, onnxruntime's wasm once a session is
// created); started together in the worker's first moment, the downloads overlap the start-up work.
//
//   const preloads = installPreloads();            // wraps self.fetch, once, before any other code runs
//   preloads.add([{url, integrity?}], base);       // fetched now, in parallel
//   preloads.drop();                               // cancel what nobody asked for (frees the bodies)
//
// A file that its code has already fetched by the time add() names it is not fetched again.
// A preloaded response is handed over once, to the first fetch() of the same absolute URL (GET, and
// the same `integrity`, when the caller passes one: Pyodide checks each wheel that way, and the
// preload was made with the same string, so the browser still checks it); every other call goes
// to the network as usual. Streaming compilation still works: the caller gets the Response itself.

export function installPreloads(scope = self) {
  const pending = new Map();        // absolute URL -> {promise, integrity}
  const asked = new Set();          // URLs already fetched by their own code: preloading them is too late
  const network = scope.fetch.bind(scope);
  const stats = { preloaded: 0, handedOver: 0 };

  scope.fetch = (input, init = undefined) => {
    if (typeof input === "string" || input instanceof URL) {
      const url = new URL(String(input), scope.location.href).href;
      asked.add(url);
      const entry = pending.get(url);
      const method = ((init && init.method) || "GET").toUpperCase();
      const integrity = init && init.integrity;
      if (entry && method === "GET" && (!integrity || integrity === entry.integrity)) {
        pending.delete(url);
        stats.handedOver += 1;
        // a preload that failed (network error) is retried by the caller's own request
        return entry.promise.catch(() => network(input, init));
      }
    }
    return network(input, init);
  };

  return {
    stats,
    add(files, base) {
      for (const { url, integrity } of files) {
        const href = new URL(url, base).href;
        if (pending.has(href) || asked.has(href)) continue;
        const promise = network(href, integrity ? { integrity } : {});
        promise.catch(() => {});          // reported through the caller's fetch, if one comes
        pending.set(href, { promise, integrity });
        stats.preloaded += 1;
      }
    },
    has(url, base) {
      return pending.has(new URL(url, base).href);
    },
    drop() {
      for (const { promise } of pending.values()) {
        promise.then((r) => r.body && r.body.cancel()).catch(() => {});
      }
      pending.clear();
    },
  };
}
