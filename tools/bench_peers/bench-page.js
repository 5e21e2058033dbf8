// What both benchmark pages share. A page reads ?first=<image> as soon as its engine is created (or
// ?wait=<ms> later) and sets window.bench.first = {doneMs (performance.now(): ms since navigation
// start), createdMs (the engine created, and the wait over), words}; then
// bench.read(name) -> {ms, words, text} times one read of images/<name> (the fetch is not timed).
export const bench = (window.bench = { first: null, error: null, info: null, read: null });
const query = new URLSearchParams(location.search);
export const param = (name) => query.get(name);

export async function imageBlob(name) {
  const response = await fetch(new URL(`images/${name}`, location.href));
  if (!response.ok) throw new Error(`images/${name}: HTTP ${response.status}`);
  return response.blob();
}

const countWords = (text) => text.split(/\s+/).filter(Boolean).length;

// engine: {create() -> info, recognize(blob) -> text}
export async function run(engine) {
  try {
    const first = await imageBlob(param("first"));
    bench.info = await engine.create();
    // ?wait=<ms>: the image arrives that long after the engine is ready, as a user's would
    const wait = Number(param("wait") || 0);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const createdMs = performance.now();
    const text = await engine.recognize(first);
    bench.first = { doneMs: performance.now(), createdMs, words: countWords(text) };
    bench.read = async (name) => {
      const blob = await imageBlob(name);
      const start = performance.now();
      const out = await engine.recognize(blob);
      return { ms: performance.now() - start, words: countWords(out), text: out };
    };
  } catch (e) {
    bench.error = String((e && e.message) || e);
  }
}
