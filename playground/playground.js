// The in-page playground: Run and Edit beside each example of the guide.
//
// docs/hooks/playground.py puts a `.rp-playground` panel after each included
// example, with the example's module and its catalogue request as data
// attributes, and loads this module on every page: with the theme's instant
// navigation the page changes without reloading, so one worker (and one Python)
// serves every page of the visit, and the panels are bound on each page change
// (`document$`). The worker (playground-worker.js) starts Pyodide from this site
// at the first Run, and never before: Python is a large download (the panel's
// hint says how large), and a reader who only reads, on a phone say, must not
// pay for it. Then it installs the wheels and runs each example through
// ravyn.testing.record.

const SCRIPT = new URL(import.meta.url);
const BASE = new URL("./", SCRIPT);
const VERSION = SCRIPT.searchParams.get("v") || "";

// --------------------------------------------------------------------------- the worker

class Runtime {
  constructor() {
    this.worker = null;
    this.ready = false;
    this.current = null; // {id, resolve, reject, onProgress}
    this.chain = Promise.resolve();
    this.nextId = 1;
  }

  start() {
    if (this.worker) return;
    this.say("starting");
    this.worker = new Worker(new URL(`playground-worker.js?v=${VERSION}`, BASE), { type: "module" });
    this.worker.onmessage = (event) => this.receive(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.fail(new Error(event.message || "the playground's worker failed to start"));
    };
  }

  receive(message) {
    if (message.type === "ready") {
      this.ready = true;
      this.say("ready");
      return;
    }
    const current = this.current;
    if (!current) return;
    if (message.type === "progress") {
      current.onProgress(message);
    } else if (message.id === current.id) {
      this.current = null;
      if (message.type === "result") {
        this.ready = true;
        current.resolve(message.result);
      } else {
        current.reject(new Error(message.message));
      }
    }
  }

  // The state of Python on the page's root element, for styles and tests.
  say(state) {
    document.documentElement.dataset.rpPython = state;
  }

  fail(error) {
    const current = this.current;
    this.say("stopped");
    this.current = null;
    this.worker?.terminate();
    this.worker = null;
    this.ready = false;
    if (current) current.reject(error);
  }

  // One run at a time, in the order asked.
  run(request, onProgress) {
    const turn = this.chain.then(
      () =>
        new Promise((resolve, reject) => {
          this.start();
          const id = this.nextId++;
          this.current = { id, resolve, reject, onProgress };
          this.worker.postMessage({ id, ...request });
        }),
    );
    this.chain = turn.catch(() => {});
    return turn;
  }

  // Stop: end the worker, whatever it is doing; the next run starts Python again.
  stop() {
    this.fail(new Error("stopped"));
  }
}

const runtime = new Runtime();
const sources = new Map(); // module -> Promise of the example's source

function originalSource(module) {
  if (!sources.has(module)) {
    const url = new URL(`examples/${module}.py?v=${VERSION}`, BASE);
    sources.set(
      module,
      fetch(url).then((response) => {
        if (!response.ok) throw new Error(`${response.status}: ${url}`);
        return response.text();
      }),
    );
  }
  return sources.get(module);
}

// --------------------------------------------------------------------------- one panel

function escapeHtml(text) {
  const entities = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  return String(text).replace(/[&<>"']/g, (c) => entities[c]);
}

function seconds(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

class Panel {
  constructor(root) {
    this.root = root;
    this.module = root.dataset.module;
    this.request = {
      module: this.module,
      method: root.dataset.method,
      path: root.dataset.path,
      json: root.dataset.json || null,
      tempDirs: root.dataset.tempDirs || "",
    };
    this.bar = root.querySelector(".rp-bar");
    this.runButton = root.querySelector(".rp-run");
    this.stopButton = root.querySelector(".rp-stop");
    this.editButton = root.querySelector(".rp-edit");
    this.resetButton = root.querySelector(".rp-reset");
    this.editorBox = root.querySelector(".rp-editor");
    this.keys = root.querySelector(".rp-keys");
    this.status = root.querySelector(".rp-status");
    this.output = root.querySelector(".rp-output");
    const before = root.previousElementSibling;
    this.code = before?.classList.contains("highlight") ? before : null; // the example's code block
    this.textarea = null;
    this.running = false;
    this.leaving = false; // Esc was pressed: the next Tab leaves the editor

    this.runButton.addEventListener("click", () => this.run());
    this.stopButton.addEventListener("click", () => runtime.stop());
    this.editButton.addEventListener("click", () => (this.editing() ? this.closeEditor() : this.openEditor()));
    this.resetButton.addEventListener("click", () => this.reset());
    this.bar.hidden = false;
  }

  // ----------------------------------------------------------------- editing

  async openEditor() {
    if (!this.textarea) {
      const source = await originalSource(this.module);
      const keysId = `rp-keys-${this.module}`;
      if (this.keys) this.keys.id = keysId;
      this.editorBox.innerHTML =
        '<div class="rp-gutter" aria-hidden="true"></div>' +
        `<textarea class="rp-code" spellcheck="false" autocapitalize="off" autocomplete="off" ` +
        `aria-describedby="${keysId}" ` +
        `aria-label="Source of docs_src/background_tasks/${escapeHtml(this.module)}.py"></textarea>`;
      this.gutter = this.editorBox.querySelector(".rp-gutter");
      this.textarea = this.editorBox.querySelector("textarea");
      this.textarea.value = source;
      this.textarea.addEventListener("input", () => this.refreshEditor());
      this.textarea.addEventListener("scroll", () => (this.gutter.scrollTop = this.textarea.scrollTop));
      this.textarea.addEventListener("keydown", (event) => this.key(event));
    }
    this.editorBox.hidden = false;
    if (this.keys) this.keys.hidden = false;
    if (this.code) this.code.classList.add("rp-replaced");
    this.editButton.textContent = "Close editor";
    this.resetButton.hidden = false;
    this.refreshEditor();
    this.textarea.focus();
  }

  closeEditor() {
    this.editorBox.hidden = true;
    if (this.keys) this.keys.hidden = true;
    if (this.code) this.code.classList.remove("rp-replaced");
    this.editButton.textContent = "Edit";
    this.resetButton.hidden = true;
  }

  async reset() {
    if (!this.textarea) return;
    this.textarea.value = await originalSource(this.module);
    this.refreshEditor();
    this.textarea.focus();
  }

  refreshEditor() {
    const lines = this.textarea.value.split("\n").length;
    this.textarea.rows = Math.min(Math.max(lines, 8), 40);
    if (this.gutterLines !== lines) {
      this.gutterLines = lines;
      this.gutter.textContent = Array.from({ length: lines }, (_, i) => i + 1).join("\n");
    }
    this.gutter.scrollTop = this.textarea.scrollTop;
  }

  // Tab indents, as in a code editor; so that a keyboard is never trapped,
  // Esc makes the next Tab (or Shift+Tab) move the focus on, as the hint says.
  key(event) {
    const leaving = this.leaving;
    this.leaving = event.key === "Escape";
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      this.run();
    } else if (event.key === "Tab" && !event.shiftKey && !leaving) {
      event.preventDefault();
      this.textarea.setRangeText("    ", this.textarea.selectionStart, this.textarea.selectionEnd, "end");
      this.refreshEditor();
    }
  }

  editing() {
    return Boolean(this.textarea) && !this.editorBox.hidden;
  }

  selectLine(line) {
    if (!this.editing() || !line) return;
    const lines = this.textarea.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
    this.textarea.focus();
    this.textarea.setSelectionRange(start, start + (lines[line - 1] || "").length);
  }

  // ----------------------------------------------------------------- running

  async run() {
    if (this.running) return;
    this.running = true;
    const edited = this.editing();
    const cold = !runtime.ready;
    this.runButton.disabled = true;
    this.stopButton.hidden = false;
    this.root.classList.add("rp-busy");
    const started = performance.now();
    const first = cold ? { step: 0, steps: 4, text: "Starting the playground" } : { steps: 0, text: "Running" };
    this.showStatus(first, started);
    const timer = setInterval(() => this.tick(started), 200);
    try {
      const source = edited ? this.textarea.value : await originalSource(this.module);
      const onProgress = (message) => this.showStatus(message, started);
      const result = await runtime.run({ ...this.request, source }, onProgress);
      this.show(result, performance.now() - started, cold, edited);
    } catch (error) {
      this.showProblem(error);
    } finally {
      clearInterval(timer);
      this.status.hidden = true;
      this.running = false;
      this.runButton.disabled = false;
      this.stopButton.hidden = true;
      this.root.classList.remove("rp-busy");
    }
  }

  showStatus(message, started) {
    const steps = message.steps || 0;
    this.status.hidden = false;
    const value = Math.max(message.step - 0.5, 0); // halfway through the current step
    const bar = steps ? `<progress max="${steps}" value="${value}"></progress>` : "<progress></progress>";
    const text = `${steps ? `${message.step}/${steps} ` : ""}${escapeHtml(message.text)}…`;
    this.status.innerHTML = `${bar}<span class="rp-status-text">${text}</span><span class="rp-elapsed"></span>`;
    this.tick(started);
  }

  tick(started) {
    const elapsed = this.status.querySelector(".rp-elapsed");
    if (elapsed) elapsed.textContent = seconds(performance.now() - started);
  }

  show(result, elapsed, cold, edited) {
    const what = edited ? "your edited example" : "the example";
    let took = `${cold ? "Python started and ran" : "Ran"} ${what} in ${seconds(elapsed)}`;
    if (!result.ok) took = `Could not run ${what} (${seconds(elapsed)})`;
    this.output.hidden = false;
    this.output.dataset.elapsed = String(Math.round(elapsed));
    this.output.innerHTML = `<p class="rp-took">${escapeHtml(took)}.</p>${result.html}`;
    this.output.classList.toggle("rp-failed", !result.ok || Boolean(result.error));
    const line = result.error?.line || Number(this.output.querySelector("[data-line]")?.dataset.line || 0);
    if (line) this.selectLine(line);
  }

  showProblem(error) {
    this.output.hidden = false;
    this.output.classList.add("rp-failed");
    const stopped = error.message === "stopped";
    this.output.innerHTML = stopped
      ? '<p class="rp-note">Stopped. The next Run starts Python again.</p>'
      : `<div class="rp-error"><p class="rp-error-title">The playground could not run the example: ` +
        `<code>${escapeHtml(error.message)}</code></p><p>Press Run to try again.</p></div>`;
  }
}

// --------------------------------------------------------------------------- the page

function bind() {
  for (const root of document.querySelectorAll(".rp-playground")) {
    if (!root.playground) root.playground = new Panel(root);
  }
}

// The theme's document$ emits on the first load and after each instant page change.
if (window.document$ && typeof window.document$.subscribe === "function") {
  window.document$.subscribe(() => bind());
} else {
  bind();
}
