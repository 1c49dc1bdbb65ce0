// The preview page: toolbar state in the URL hash, live updates from /api/events (Server-Sent Events).
// This script is served only with the preview page; the email the build writes never contains it.
"use strict";

(() => {
  const WIDTHS = ["320", "375", "600", "full"];
  const SCHEMES = ["light", "dark"];
  const VIEWS = ["email", "text", "source", "warnings"];
  const KEY = /^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$/;
  const GMAIL_CLIPS = 102 * 1000; // Gmail cuts off messages whose HTML is larger than about 102 kB

  const $ = (id) => document.getElementById(id);
  const ui = { width: "600", scheme: "light", view: "email", edition: "" }; // edition "" = the live one
  let live = null; // the latest state from the server
  let shown = ""; // what the page shows now: key|scheme|generation
  let ticket = 0; // drops answers to requests that a newer refresh has overtaken

  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    if (WIDTHS.includes(p.get("width"))) ui.width = p.get("width");
    if (SCHEMES.includes(p.get("scheme"))) ui.scheme = p.get("scheme");
    if (VIEWS.includes(p.get("view"))) ui.view = p.get("view");
    const edition = p.get("edition") || "";
    ui.edition = KEY.test(edition) ? edition : "";
  }

  function writeHash() {
    const p = new URLSearchParams({ width: ui.width, scheme: ui.scheme, view: ui.view });
    if (ui.edition) p.set("edition", ui.edition);
    history.replaceState(null, "", "#" + p.toString());
  }

  const isLive = () => !ui.edition || (live !== null && ui.edition === live.key);
  const shownKey = () => ui.edition || (live && live.key) || "";

  function renderControls() {
    for (const b of document.querySelectorAll("button[data-width]")) b.setAttribute("aria-pressed", String(b.dataset.width === ui.width));
    for (const b of document.querySelectorAll("button[data-scheme]")) b.setAttribute("aria-pressed", String(b.dataset.scheme === ui.scheme));
    for (const b of document.querySelectorAll("button[data-view]")) b.setAttribute("aria-pressed", String(b.dataset.view === ui.view));
    $("email").style.width = ui.width === "full" ? "100%" : ui.width + "px";
    fitScrollbar();
    $("stage").classList.toggle("dark", ui.scheme === "dark");
    const failing = isLive() && live !== null && !live.ok;
    $("stage").hidden = ui.view !== "email" || failing;
    $("text").hidden = ui.view !== "text" || failing;
    $("source").hidden = ui.view !== "source" || failing;
    $("warnings").hidden = ui.view !== "warnings" || failing;
    if (failing) $("summary").hidden = true; // it describes the last good build, not the broken one
    else if ($("summary").dataset.loaded) $("summary").hidden = false;
  }

  function renderEditions() {
    const select = $("edition");
    const keys = (live && live.editions) || [];
    const options = [["", live && live.key ? `${live.key} (live)` : "live"]];
    for (const key of keys) if (!live || key !== live.key) options.push([key, key]);
    select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
    select.value = isLive() ? "" : ui.edition;
  }

  function renderStatus() {
    const status = $("status");
    status.classList.remove("bad");
    if (live === null) return;
    const at = new Date(live.finished * 1000).toLocaleTimeString();
    if (!isLive()) {
      status.textContent = `${ui.edition} as built (read-only) · live: ${live.key || "none"}`;
    } else if (live.building) {
      status.textContent = "Rebuilding…";
    } else if (live.ok) {
      status.textContent = `Built at ${at} in ${live.seconds.toFixed(2)} s · watching for changes`;
    } else {
      status.textContent = `Build failed at ${at}.`;
      status.classList.add("bad");
    }
  }

  function renderError() {
    const panel = $("error");
    if (!isLive() || live === null || live.ok || !live.error) {
      panel.hidden = true;
      return;
    }
    const error = live.error;
    $("error-title").textContent = error.title;
    const items = error.problems.map((p) => {
      const li = document.createElement("li");
      const where = document.createElement("code");
      where.textContent = p.where;
      li.append(where, `: ${p.problem}`);
      if (p.hint) {
        const hint = document.createElement("span");
        hint.className = "what-to-do";
        hint.textContent = p.hint;
        li.append(hint);
      }
      return li;
    });
    $("error-problems").replaceChildren(...items);
    $("error-message").textContent = items.length ? "" : error.message;
    panel.hidden = false;
  }

  function renderIssue(meta, warnings) {
    $("summary").hidden = meta === null;
    $("summary").dataset.loaded = "1";
    if (meta !== null) {
      $("subject").textContent = meta.subject || "";
      $("preheader").textContent = meta.preheader || "";
      const size = meta.sizes && meta.sizes["email.html"];
      const sizes = $("sizes");
      sizes.textContent = size ? `email.html ${(size / 1000).toFixed(1)} kB` : "";
      sizes.classList.toggle("over", Boolean(size && size > GMAIL_CLIPS));
      if (size && size > GMAIL_CLIPS) sizes.textContent += " — Gmail clips messages above 102 kB";
    }
    const list = warnings.map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    });
    $("warning-list").replaceChildren(...list);
    $("no-warnings").hidden = list.length > 0;
    renderStories(meta);
    const count = $("warning-count");
    count.textContent = String(list.length);
    count.classList.toggle("some", list.length > 0);
  }

  // The edition's stories, those `newsletter gather` wrote marked with their source (live edition only).
  function renderStories(meta) {
    const gathered = (isLive() && live && live.gathered) || {};
    const stories = meta && Array.isArray(meta.stories) ? meta.stories : [];
    let count = 0;
    const items = stories.map((story) => {
      const li = document.createElement("li");
      li.dataset.id = story.id;
      li.append(story.headline || story.id);
      const mark = Object.prototype.hasOwnProperty.call(gathered, story.id) ? gathered[story.id] : null;
      if (mark) {
        count += 1;
        const badge = document.createElement("span");
        badge.className = "gathered";
        badge.textContent = `gathered · ${mark.source}`;
        if (mark.url) badge.title = mark.url;
        li.append(" ", badge);
        if (mark.edited) {
          const edited = document.createElement("span");
          edited.className = "gathered edited";
          edited.textContent = "edited since";
          li.append(" ", edited);
        }
      }
      return li;
    });
    $("story-list").replaceChildren(...items);
    $("gathered").textContent = count ? `${count} of ${stories.length} stories gathered from the website` : "";
  }

  // `newsletter check` on the live edition, run by the preview after each build: the offline rules
  // first, then the links and images (fetched in the background; the list updates when they are done).
  const SHOWN_ABOVE = ["build-warning", "story-no-analysis", "story-no-impact"]; // the build's warnings list them
  const CHECK_STATUS = {
    checking: "Checking…",
    "checking-links": "Checking links and images…",
    failed: "The check could not run.",
  };

  function renderCheck() {
    const check = isLive() && live !== null && live.ok ? live.check : null;
    const panel = $("check");
    const count = $("check-count");
    panel.hidden = check === null || check === undefined;
    count.hidden = panel.hidden;
    if (panel.hidden) return;
    const findings = [
      ...check.errors.map((f) => ({ ...f, error: true })),
      ...check.warnings.filter((f) => !SHOWN_ABOVE.includes(f.code)).map((f) => ({ ...f, error: false })),
    ];
    const items = findings.map((f) => {
      const li = document.createElement("li");
      li.className = f.error ? "error" : "warning";
      const where = document.createElement("code");
      where.textContent = f.where;
      const code = document.createElement("span");
      code.className = "finding-code";
      code.textContent = `[${f.code}]`;
      const fix = document.createElement("span");
      fix.className = "what-to-do";
      fix.textContent = f.fix;
      li.append(f.error ? "Error: " : "", where, `: ${f.message}`, code, fix);
      return li;
    });
    $("check-list").replaceChildren(...items);
    const done = check.status === "done";
    const status = CHECK_STATUS[check.status] || "";
    $("check-status").textContent = done ? (findings.length ? check.summary : "no problems found") : status;
    const notes = [...(check.message ? [check.message] : []), ...(done ? check.notes : [])];
    $("check-notes").replaceChildren(...notes.map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }));
    count.textContent = String(findings.length);
    count.classList.toggle("bad", check.errors.length > 0);
    count.classList.toggle("some", check.errors.length === 0 && findings.length > 0);
  }

  async function fetchText(url) {
    const answer = await fetch(url, { cache: "no-store" });
    if (!answer.ok) throw new Error(`${url}: ${answer.status}`);
    return answer.text();
  }

  // Phones draw scrollbars over the page; a desktop scrollbar would steal 15 px of a 320 px screen.
  function fitScrollbar() {
    const doc = $("email").contentDocument;
    if (doc && doc.documentElement) doc.documentElement.style.scrollbarWidth = ["320", "375"].includes(ui.width) ? "none" : "";
  }

  function loadFrame(src) {
    const frame = $("email");
    let y = 0;
    try {
      y = frame.contentWindow.scrollY; // keep the editor's place across rebuilds
    } catch (e) {
      y = 0;
    }
    frame.onload = () => {
      const doc = frame.contentDocument;
      if (!doc) return;
      fitScrollbar();
      frame.contentWindow.scrollTo(0, y);
      // Links open in a new tab instead of replacing the email inside the frame.
      for (const a of doc.querySelectorAll("a[href]")) {
        a.target = "_blank";
        a.rel = "noopener noreferrer";
      }
    };
    frame.src = src;
  }

  // Bring the frame, text, source and warnings in line with the toolbar and the latest build.
  async function refresh() {
    renderControls();
    renderError();
    renderStatus();
    renderCheck();
    const key = shownKey();
    if (!key || (isLive() && !live.ok)) return;
    const generation = isLive() ? live.generation : 0;
    const wanted = `${key}|${ui.scheme}|${generation}`;
    if (wanted === shown) return;
    const mine = ++ticket;
    const base = `/issues/${encodeURIComponent(key)}/`;
    try {
      const [text, source, json] = await Promise.all([
        fetchText(`${base}email.txt`), fetchText(`${base}email.html`), fetchText(`${base}issue.json`),
      ]);
      if (mine !== ticket) return;
      let meta = null;
      try {
        meta = JSON.parse(json);
      } catch (e) {
        meta = null;
      }
      $("text").textContent = text;
      $("source").textContent = source;
      const warnings = (meta && Array.isArray(meta.warnings) ? meta.warnings : null) || (isLive() ? live.warnings : []);
      renderIssue(meta, warnings);
      loadFrame(`${base}email.html?scheme=${ui.scheme}&build=${generation}`);
      shown = wanted;
      renderControls();
    } catch (e) {
      if (mine !== ticket) return;
      $("status").textContent = `Cannot load ${key}: ${e.message}`;
      $("status").classList.add("bad");
    }
  }

  function choose(change) {
    Object.assign(ui, change);
    writeHash();
    refresh();
  }

  function connect() {
    const events = new EventSource("/api/events");
    events.addEventListener("state", (event) => {
      live = JSON.parse(event.data);
      if (ui.edition && !live.editions.includes(ui.edition) && ui.edition !== live.key) ui.edition = "";
      renderEditions();
      refresh();
    });
    events.addEventListener("error", () => {
      const status = $("status");
      status.textContent = "Lost the connection to `newsletter preview`: is it still running? Retrying…";
      status.classList.add("bad");
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    readHash();
    writeHash();
    for (const b of document.querySelectorAll("button[data-width]")) b.addEventListener("click", () => choose({ width: b.dataset.width }));
    for (const b of document.querySelectorAll("button[data-scheme]")) b.addEventListener("click", () => choose({ scheme: b.dataset.scheme }));
    for (const b of document.querySelectorAll("button[data-view]")) b.addEventListener("click", () => choose({ view: b.dataset.view }));
    $("edition").addEventListener("change", (event) => choose({ edition: event.target.value }));
    window.addEventListener("hashchange", () => {
      readHash();
      refresh();
    });
    renderControls();
    connect();
  });
})();
