// The playground's Python, in a worker: the page stays responsive while Pyodide
// starts or an example runs, and Stop can end a run that never returns.
//
// Messages in:  {id, module, source, method, path, json, tempDirs}  (a run; the first starts Python)
// Messages out: {type: "ready"}                  (Python is up)
//               {type: "progress", step, steps, text}
//               {type: "result", id, result}     (result: the runner's JSON, parsed)
//               {type: "failure", id, message}   (Python could not be started)
//
// Everything is loaded from this site (see docs/hooks/playground.py): Pyodide
// from ./pyodide/, the wheels from ./wheels/ with micropip, never from an index.

const BASE = new URL("./", self.location.href);
const VERSION = new URL(self.location.href).searchParams.get("v") || "";
const HOME = "/home/pyodide/playground";

let booting = null; // Promise of {pyodide, runner}, made by the first run
let queue = Promise.resolve(); // runs, one at a time

function progress(step, steps, text) {
  self.postMessage({ type: "progress", step, steps, text });
}

async function text(path) {
  const response = await fetch(new URL(path, BASE), { cache: "no-cache" });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}: ${response.url}`);
  return response.text();
}

async function boot() {
  const manifest = JSON.parse(await text(`manifest.json?v=${VERSION}`));
  const steps = 4;
  const megabytes = (manifest.download_bytes / 1e6).toFixed(0);
  progress(1, steps, `Starting Python ${manifest.pyodide.python} (Pyodide ${manifest.pyodide.version}, ` +
    `about ${megabytes} MB on the first run)`);
  const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", BASE).href);
  const pyodide = await loadPyodide({
    indexURL: new URL("pyodide/", BASE).href,
    stdout: () => {}, // the runner records what the examples print; the console stays quiet
    stderr: () => {},
  });

  progress(2, steps, "Installing micropip");
  await pyodide.loadPackage(new URL(manifest.micropip, BASE).href, { messageCallback: () => {} });

  const names = manifest.wheels.map((wheel) => wheel.name).join(", ");
  progress(3, steps, `Installing ${names} with micropip, from this site`);
  const micropip = pyodide.pyimport("micropip");
  const urls = manifest.wheels.map((wheel) => new URL(wheel.url, BASE).href);
  // deps=False: the list is complete, and no package index is ever asked
  await micropip.install.callKwargs(pyodide.toPy(urls), { deps: false });

  progress(4, steps, "Loading the timeline recorder");
  pyodide.FS.mkdirTree(HOME);
  pyodide.FS.writeFile(`${HOME}/ravyn_playground.py`, await text(manifest.runner));
  pyodide.FS.writeFile(`${HOME}/timelines.py`, await text(manifest.timelines));
  // the modules examples import from docs_src.background_tasks (safe_files, ...), a namespace package here
  pyodide.FS.mkdirTree(`${HOME}/docs_src/background_tasks`);
  for (const name of manifest.helpers || []) {
    const source = await text(manifest.examples.replace("{module}", name));
    pyodide.FS.writeFile(`${HOME}/docs_src/background_tasks/${name}.py`, source);
  }
  pyodide.runPython(`import sys; sys.path.insert(0, "${HOME}")`);
  const runner = pyodide.pyimport("ravyn_playground");
  runner.prepare(HOME, `${HOME}/timelines.py`);
  return { pyodide, runner };
}

function describe(error) {
  return String(error && error.message ? error.message : error);
}

async function handle(message) {
  const { id } = message;
  let ready;
  try {
    ready = await start();
  } catch (error) {
    self.postMessage({ type: "failure", id, message: describe(error) });
    return;
  }
  progress(0, 0, `Running ${message.method} ${message.path}`);
  try {
    const { module, source, method, path, json: body, tempDirs } = message;
    const json = await ready.runner.run(module, source, method, path, body || null, tempDirs || "");
    self.postMessage({ type: "result", id, result: JSON.parse(json) });
  } catch (error) {
    self.postMessage({ type: "failure", id, message: describe(error) });
  }
}

function start() {
  if (!booting) {
    booting = boot();
    booting.then(
      () => self.postMessage({ type: "ready" }),
      () => (booting = null), // the run waiting for it says why; the next one tries again
    );
  }
  return booting;
}

self.onmessage = (event) => {
  queue = queue.then(() => handle(event.data));
};
