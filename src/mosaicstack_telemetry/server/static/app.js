// The local server's live page. Hand-written, no dependencies, no build step.
// It polls /ui/api/state about once a second with the cursor it has (an idle poll is a few
// bytes), renders with DOM APIs only (text from events never becomes markup), asks the public
// POST /v1/predictions/batch for predictions and draws them as inline SVG.
"use strict";

(() => {
  const POLL_MS = 1000;
  const HIDDEN_POLL_MS = 5000;
  const $ = (id) => document.getElementById(id);

  const view = {
    cursor: null,
    paused: false,
    rendered: false,
    knownEvents: new Set(),
    knownRequests: new Set(),
    openRequests: new Set(),
    selected: null,
    combosKey: "",
    choicesSet: false,
    lastChange: null,
  };

  // --- small helpers ------------------------------------------------------------------------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Intl formatters made once: toLocaleString() builds one per call, ten times slower.
  const NUMBER = new Intl.NumberFormat("en-US");
  const TIME = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short" });
  const int = (n) => NUMBER.format(Number(n));

  function tokens(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(2) + "M";
    if (n >= 1e4) return (n / 1e3).toFixed(1) + "k";
    return int(n);
  }

  function dollars(micros) {
    const d = micros / 1e6;
    if (d === 0) return "$0";
    if (d < 1) return "$" + d.toFixed(4);
    if (d < 1000) return "$" + d.toFixed(2);
    return "$" + int(Math.round(d));
  }

  function duration(ms) {
    if (ms < 1000) return int(ms) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
    const s = Math.round(ms / 1000);
    if (s < 3600) return Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
    return Math.floor(s / 3600) + "h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + "m";
  }

  function clock(value) {
    const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    if (Number.isNaN(date.getTime())) return String(value);
    const time = TIME.format(date);
    const today = new Date().toDateString() === date.toDateString();
    return today ? time : DAY.format(date) + " " + time;
  }

  const short = (id) => (id ? String(id).slice(0, 8) : "–");

  function hue(text) {
    let h = 0;
    for (const ch of String(text)) h = (h * 31 + ch.charCodeAt(0)) % 360;
    return h;
  }

  function instanceTag(id) {
    if (!id) return el("span", { class: "muted", text: "–" });
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = `hsl(${hue(id)} 65% 52%)`;
    return el("span", { class: "inst", title: id }, swatch, short(id));
  }

  const badge = (text, cls, title) => el("span", { class: `badge ${cls || ""}`, text, title });

  function jsonInto(pre, value) {
    const text = JSON.stringify(value, null, 2);
    const pattern = /("(?:\\u[\da-fA-F]{4}|\\[^u]|[^\\"])*"(\s*:)?|\b(?:true|false|null)\b|-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)/g;
    const nodes = [];
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      nodes.push(text.slice(last, match.index));
      const token = match[0];
      let cls = "n";
      if (token.startsWith('"')) cls = match[2] ? "k" : "s";
      else if (/true|false|null/.test(token)) cls = "b";
      nodes.push(el("span", { class: cls, text: token }));
      last = match.index + token.length;
    }
    nodes.push(text.slice(last));
    pre.replaceChildren(...nodes);
  }

  // --- polling ------------------------------------------------------------------------------

  function setLive(kind, text) {
    const live = $("live");
    live.classList.remove("on", "off", "paused");
    live.classList.add(kind);
    $("live-text").textContent = text;
  }

  function liveText() {
    return view.lastChange ? `Live · last change ${clock(view.lastChange / 1000)}` : "Live";
  }

  async function poll() {
    if (!view.paused) {
      try {
        const query = view.cursor ? "?since=" + encodeURIComponent(view.cursor) : "";
        const response = await fetch("/ui/api/state" + query, { cache: "no-store" });
        if (!response.ok) throw new Error(`the server answered ${response.status}`);
        const body = await response.json();
        view.cursor = body.cursor;
        if (body.changed) {
          view.lastChange = Date.now();
          render(body);
        }
        setLive("on", liveText());
      } catch (error) {
        setLive("off", `Server unreachable (${error.message}): retrying`);
      }
    }
    setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  }

  $("pause").addEventListener("click", () => {
    view.paused = !view.paused;
    $("pause").textContent = view.paused ? "Resume" : "Pause";
    if (view.paused) setLive("paused", "Paused: the page is not updating");
    else setLive("on", liveText());
  });

  // --- rendering ----------------------------------------------------------------------------

  function render(state) {
    $("server-db").textContent =
      state.server.database === "in memory" ? "in-memory database" : `database ${state.server.database}`;
    renderStats(state);
    renderEvents(state);
    renderCounts(state.counts);
    renderRequests(state.requests);
    renderChoices(state);
    if (!view.rendered) {
      view.rendered = true;
      // Navigation start to the first rendered view, for a person and for the timing test.
      document.documentElement.dataset.firstRender = performance.now().toFixed(1);
      performance.mark("mosaic-first-render");
    }
  }

  function stat(value, label, cls, title) {
    return el("div", { class: `stat ${cls || ""}`, title }, el("b", { text: value }), el("span", { text: label }));
  }

  function renderStats(state) {
    const r = state.requests;
    const window = `in the last ${int(r.kept)} requests the server kept`;
    const chips = [stat(int(state.total), "events stored"), stat(int(r.recorded), "requests")];
    const statuses = Object.entries(r.event_statuses).filter(([s]) => s !== "accepted");
    for (const name of ["rejected", "duplicate"]) {
      if (!statuses.some(([s]) => s === name)) statuses.push([name, 0]);
    }
    statuses.sort((a, b) => a[0].localeCompare(b[0]));
    for (const [status, n] of statuses) {
      const cls = n === 0 ? "" : status === "rejected" ? "bad" : status === "duplicate" ? "warn" : "info";
      chips.push(stat(int(n), status, cls, `events answered "${status}" ${window}`));
    }
    $("stats").replaceChildren(...chips);
  }

  function eventKey(ev) {
    return ev.instance_id + "/" + ev.event_id;
  }

  function renderEvents(state) {
    const tbody = $("events").tBodies[0];
    const keys = new Set();
    const rows = state.events.map((ev) => {
      const key = eventKey(ev);
      keys.add(key);
      const fresh = view.rendered && !view.knownEvents.has(key);
      const tr = el(
        "tr",
        { tabindex: 0, class: [fresh && "new", key === view.selected && "selected"].filter(Boolean).join(" ") },
        el("td", { title: ev.received_at, text: clock(ev.received_at) }),
        el("td", {}, instanceTag(ev.instance_id)),
        el("td", {}, ev.task_type, el("span", { class: "cx", text: ev.complexity })),
        el("td", { class: "model", title: ev.model, text: ev.model }),
        el("td", { text: ev.provider }),
        el("td", {}, badge(ev.outcome, ev.outcome)),
        el("td", { class: "num", title: `${int(ev.task_duration_ms)} ms`, text: duration(ev.task_duration_ms) }),
        el("td", {
          class: "num",
          title: `${int(ev.actual_input_tokens)} in, ${int(ev.actual_output_tokens)} out`,
          text: `${tokens(ev.actual_input_tokens)} / ${tokens(ev.actual_output_tokens)}`,
        }),
        el("td", { class: "num", title: `${int(ev.actual_cost_usd_micros)} µ$`, text: dollars(ev.actual_cost_usd_micros) }),
      );
      tr.dataset.key = key;
      tr.addEventListener("click", () => openEvent(ev, tr));
      tr.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          openEvent(ev, tr);
        }
      });
      return tr;
    });
    tbody.replaceChildren(...rows);
    view.knownEvents = keys;
    $("events-empty").hidden = state.total > 0;
    $("events").hidden = state.total === 0;
    $("snippet").textContent = [
      "from mosaicstack_telemetry import TelemetryClient, TelemetryConfig",
      "",
      "config = TelemetryConfig(",
      `    server_url="${location.origin}",`,
      '    api_key="<a key this server was started with>",',
      '    instance_id="<the instance id bound to that key>",',
      ")",
    ].join("\n");
    const shown = state.events.length;
    $("events-note").textContent =
      state.total === 0 ? "" : shown < state.total ? `newest ${int(shown)} of ${int(state.total)} · click one for its JSON` : `${int(state.total)} · click one for its JSON`;
  }

  function renderCounts(counts) {
    const groups = [
      ["model", "By model"],
      ["provider", "By provider"],
      ["outcome", "By outcome"],
      ["task_type", "By task type"],
    ].map(([column, title]) => {
      const group = counts[column];
      const max = Math.max(1, ...group.top.map(([, n]) => n));
      const rows = group.top.map(([value, n]) => {
        const fill = el("i", { class: column === "outcome" ? value : "" });
        fill.style.width = `${(100 * n) / max}%`;
        return el(
          "div",
          { class: "bar-row" },
          el("span", { class: "label", title: value, text: value }),
          el("span", { class: "bar" }, fill),
          el("span", { class: "n", text: int(n) }),
        );
      });
      if (group.others > 0) {
        rows.push(el("div", { class: "muted", text: `and ${int(group.distinct - group.top.length)} more (${int(group.others)} events)` }));
      }
      if (rows.length === 0) rows.push(el("div", { class: "muted", text: "nothing yet" }));
      return el(
        "div",
        { class: "count-group" },
        el("h3", {}, title, el("span", { class: "muted", text: group.distinct ? `${int(group.distinct)} distinct` : "" })),
        rows,
      );
    });
    $("counts").replaceChildren(...groups);
  }

  function statusBadge(record) {
    if (record.status === null) return badge("no answer", "lost", "the connection ended before an answer");
    return badge(String(record.status), "s" + String(record.status)[0]);
  }

  function reasonOf(result) {
    const known = new Set(["index", "event_id", "status", "error", "code"]);
    const parts = [];
    if (result.code) parts.push(el("code", { text: String(result.code) }), " ");
    if (result.error) parts.push(String(result.error));
    const others = Object.entries(result).filter(([k, v]) => !known.has(k) && v !== null);
    for (const [k, v] of others) parts.push(` ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    return parts.length ? parts : ["(no reason given)"];
  }

  function requestItem(record) {
    const fresh = view.rendered && !view.knownRequests.has(record.seq);
    const right = el("div", { class: "right" });
    for (const [status, n] of Object.entries(record.counts)) {
      const word = status.replace(/ confidence$/, "");
      right.append(badge(`${int(n)} ${status}`, word));
    }
    if (record.fault) right.append(badge(`fault: ${record.fault}`, "fault", "injected by the server's fault injection"));
    if (record.duration_ms !== null) right.append(el("span", { class: "ms", text: `${record.duration_ms.toFixed(1)} ms` }));
    const who = [record.client, record.instance && `instance ${short(record.instance)}`].filter(Boolean).join(" · ");
    const head = [
      el("span", { class: "time", text: clock(record.at) }),
      statusBadge(record),
      el(
        "div",
        { class: "what" },
        el("code", { text: `${record.method} ${record.path}` }),
        who ? el("div", { class: "client", title: who, text: who }) : null,
      ),
      right,
    ];
    const expandable = record.results.length > 0 || record.detail;
    const li = el("li", { class: fresh ? "new" : "" });
    li.dataset.seq = record.seq;
    if (!expandable) {
      li.append(el("div", { class: "req" }, head));
      return li;
    }
    const reasons = el("div", { class: "reasons" });
    if (record.detail) reasons.append(el("p", { class: "detail", text: record.detail }));
    if (record.results.length) {
      const rows = record.results.map((r) =>
        el(
          "tr",
          {},
          el("td", { class: "num", text: r.index ?? "" }),
          el("td", { class: "mono", title: r.event_id ?? "", text: short(r.event_id) }),
          el("td", {}, badge(String(r.status), String(r.status))),
          el("td", { class: "reason" }, reasonOf(r)),
        ),
      );
      reasons.append(
        el(
          "table",
          { class: "results" },
          el("thead", {}, el("tr", {}, el("th", { text: "#" }), el("th", { text: "Event" }), el("th", { text: "Status" }), el("th", { text: "Why" }))),
          el("tbody", {}, rows),
        ),
      );
    }
    const details = el("details", { open: view.openRequests.has(record.seq) }, el("summary", { class: "req" }, head), reasons);
    details.addEventListener("toggle", () => {
      if (details.open) view.openRequests.add(record.seq);
      else view.openRequests.delete(record.seq);
    });
    li.append(details);
    return li;
  }

  function renderRequests(requests) {
    const items = requests.items.map(requestItem);
    $("requests").replaceChildren(...items);
    view.knownRequests = new Set(requests.items.map((r) => r.seq));
    $("requests-empty").hidden = items.length > 0;
    $("requests-note").textContent = requests.recorded
      ? `${int(requests.recorded)} since start · newest ${int(items.length)} shown · the page's own are not listed`
      : "";
  }

  // --- the event drawer ---------------------------------------------------------------------

  let drawerJson = "";

  async function openEvent(ev, row) {
    view.selected = eventKey(ev);
    for (const tr of $("events").tBodies[0].rows) tr.classList.toggle("selected", tr === row);
    $("drawer-title").textContent = `${ev.task_type} · ${ev.model}`;
    $("drawer-sub").textContent = `${ev.provider} · ${ev.complexity} · ${ev.outcome}`;
    $("drawer-facts").replaceChildren();
    $("drawer-json").textContent = "loading…";
    $("drawer").hidden = false;
    $("scrim").hidden = false;
    const query = new URLSearchParams({ instance_id: ev.instance_id, event_id: ev.event_id });
    try {
      const response = await fetch("/ui/api/event?" + query, { cache: "no-store" });
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || `the server answered ${response.status}`);
      const facts = [
        ["Event id", ev.event_id],
        ["Instance", ev.instance_id],
        ["Timestamp", body.event.timestamp ?? "–"],
        ["Received", body.received_at],
        ["Delivered", body.deliveries === 1 ? "in 1 request" : `in ${body.deliveries} requests (stored once)`],
      ];
      $("drawer-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { class: k === "Event id" || k === "Instance" ? "mono" : "", text: v })]));
      drawerJson = JSON.stringify(body.event, null, 2);
      jsonInto($("drawer-json"), body.event);
    } catch (error) {
      $("drawer-json").textContent = `Could not load the event: ${error.message}`;
    }
  }

  function closeDrawer() {
    $("drawer").hidden = true;
    $("scrim").hidden = true;
    view.selected = null;
    for (const tr of $("events").tBodies[0].rows) tr.classList.remove("selected");
  }

  $("close-drawer").addEventListener("click", closeDrawer);
  $("scrim").addEventListener("click", closeDrawer);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$("drawer").hidden) closeDrawer();
  });
  $("copy-json").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(drawerJson);
      $("copy-json").textContent = "Copied";
    } catch {
      $("copy-json").textContent = "Copy failed";
    }
    setTimeout(() => ($("copy-json").textContent = "Copy JSON"), 1500);
  });

  // --- predictions --------------------------------------------------------------------------

  const FIELDS = ["task_type", "model", "provider", "complexity"];

  function renderChoices(state) {
    if (!view.choicesSet) {
      for (const [field, values] of Object.entries(state.server.choices)) {
        $("q-" + field).replaceChildren(...values.map((v) => el("option", { value: v, text: v })));
      }
      view.choicesSet = true;
    }
    $("models").replaceChildren(...state.counts.model.top.map(([m]) => el("option", { value: m })));
    const key = JSON.stringify(state.combinations);
    if (key === view.combosKey) return;
    view.combosKey = key;
    const select = $("combo");
    const chosen = select.value;
    const options = state.combinations.map(([t, m, p, c, n]) =>
      el("option", { value: JSON.stringify([t, m, p, c]), text: `${t} · ${m} · ${p} · ${c} (${int(n)} events)` }),
    );
    select.replaceChildren(select.options[0], ...options);
    select.value = chosen;
    if (state.combinations.length && !$("q-model").value) fill(state.combinations[0]);
  }

  function fill(values) {
    FIELDS.forEach((field, i) => ($("q-" + field).value = values[i]));
  }

  $("combo").addEventListener("change", () => {
    if (!$("combo").value) return;
    fill(JSON.parse($("combo").value));
    predict();
  });

  $("predict-form").addEventListener("submit", (e) => {
    e.preventDefault();
    predict();
  });

  const CONFIDENCE = {
    high: "High confidence: 100 or more events matched all four dimensions exactly.",
    medium: "Medium confidence: 30 to 99 events matched all four dimensions exactly.",
    low: "Low confidence: fewer than 30 events matched, or the server had to drop a dimension to find any.",
    none: "No data: no stored event has this task type, so there is nothing to predict from.",
  };

  function fallbackWords(level, q) {
    switch (level) {
      case 0:
        return "Exact match: events with this task type, model, provider and complexity.";
      case 1:
        return `Fallback level 1: no events for model ${q.model}, so it used every ${q.provider} model (same task type and complexity).`;
      case 2:
        return `Fallback level 2: nothing from ${q.provider} either, so it used every provider and model (same task type and complexity).`;
      case 3:
        return `Fallback level 3: nothing at complexity ${q.complexity}, so it used every ${q.task_type} event.`;
      case -1:
        return `Fallback level -1: nothing of task type ${q.task_type} is stored.`;
      default:
        return `Fallback level ${level}.`;
    }
  }

  const METRICS = [
    { key: "input_tokens", column: "actual_input_tokens", title: "Input tokens", fmt: tokens },
    { key: "output_tokens", column: "actual_output_tokens", title: "Output tokens", fmt: tokens },
    { key: "duration_ms", column: "task_duration_ms", title: "Duration", fmt: duration },
    { key: "cost_usd_micros", column: "actual_cost_usd_micros", title: "Cost", fmt: dollars },
  ];

  async function predict() {
    const query = Object.fromEntries(FIELDS.map((f) => [f, $("q-" + f).value.trim()]));
    const out = $("prediction");
    if (!query.model) {
      out.replaceChildren(el("div", { class: "error-box", text: "Give a model." }));
      return;
    }
    out.replaceChildren(el("p", { class: "muted", text: "Asking the server…" }));
    let answer;
    try {
      const response = await fetch("/v1/predictions/batch", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ queries: [query] }),
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        const detail = body && body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : "";
        throw new Error(`the server answered ${response.status}${detail ? ": " + detail : ""}. Try again.`);
      }
      answer = body.results[0];
    } catch (error) {
      out.replaceChildren(el("div", { class: "error-box", text: `No prediction: ${error.message}` }));
      return;
    }
    let histograms = null;
    const matched = answer.metadata.dimensions_matched;
    if (answer.prediction && matched) {
      const params = new URLSearchParams(Object.entries(matched).filter(([, v]) => v !== null));
      const response = await fetch("/ui/api/distribution?" + params, { cache: "no-store" }).catch(() => null);
      if (response && response.ok) histograms = await response.json();
    }
    renderPrediction(query, answer, histograms);
  }

  function renderPrediction(query, answer, histograms) {
    const meta = answer.metadata;
    const data = answer.prediction;
    const verdict = el(
      "div",
      { class: "verdict", id: "verdict" },
      badge(`${meta.confidence} confidence`, meta.confidence),
      el(
        "div",
        {},
        el("p", {}, el("b", { text: `${int(meta.sample_size)} events. ` }), CONFIDENCE[meta.confidence] || `Confidence ${meta.confidence}.`),
        el("p", { class: "note", id: "fallback-words", text: fallbackWords(meta.fallback_level, query) }),
        meta.fallback_note ? el("p", { class: "note", text: `The server says: ${meta.fallback_note}` }) : null,
      ),
    );
    const parts = [verdict];
    if (data) {
      const charts = el("div", { class: "charts", id: "charts" });
      for (const metric of METRICS) {
        const hist = histograms ? histograms.metrics[metric.column] : null;
        charts.append(chart(metric, data[metric.key] || {}, hist));
      }
      parts.push(charts);
      const q = data.quality || {};
      const c = data.correction_factors || {};
      const figure = (value, label, title) => el("div", { class: "figure", title }, el("b", { text: value }), el("span", { text: label }));
      const pct = (x) => (typeof x === "number" ? Math.round(x * 100) + "%" : "–");
      const times = (x) => (typeof x === "number" ? "×" + x.toFixed(2) : "–");
      parts.push(
        el(
          "div",
          { class: "figures" },
          figure(times(c.input), "input vs estimate", "actual input tokens / estimated, over the matched events"),
          figure(times(c.output), "output vs estimate", "actual output tokens / estimated, over the matched events"),
          figure(pct(q.gate_pass_rate), "quality gates passed"),
          figure(pct(q.success_rate), "succeeded"),
        ),
      );
      parts.push(
        el("p", {
          class: "muted",
          text: `Bars: the ${histograms ? int(histograms.n) : ""} stored events it matched. Lines: the answer's percentiles (median bold; shaded p25–p75, whiskers p10–p90). Newest matched event ${meta.last_updated ? clock(meta.last_updated) : "–"}${meta.cache_hit ? " · served from the server's cache" : ""}.`,
        }),
      );
    }
    const raw = el("pre", { class: "json" });
    jsonInto(raw, answer);
    parts.push(el("details", { class: "raw" }, el("summary", { text: "The answer as the API returned it" }), raw));
    $("prediction").replaceChildren(...parts);
  }

  function chart(metric, percentiles, hist) {
    const W = 360, H = 118, left = 6, right = 354, top = 16, base = 90;
    const points = Object.entries(percentiles)
      .map(([name, v]) => [name === "median" ? 50 : Number(String(name).replace(/^p/, "")), v])
      .filter(([p, v]) => Number.isFinite(p) && typeof v === "number")
      .sort((a, b) => a[0] - b[0]);
    const at = Object.fromEntries(points);
    const values = points.map(([, v]) => v);
    if (hist && hist.min !== null) values.push(hist.min, hist.max);
    let lo = Math.min(...values), hi = Math.max(...values);
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    const x = (v) => left + ((v - lo) / (hi - lo)) * (right - left);
    const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${metric.title} distribution` });
    if (hist && hist.bins.length) {
      const peak = Math.max(...hist.bins);
      const width = (x(hist.max) - x(hist.min)) / hist.bins.length;
      hist.bins.forEach((n, i) => {
        if (!n) return;
        const h = ((base - top) * n) / peak;
        g.append(svg("rect", { class: "hist", x: x(hist.min) + i * width + 0.5, y: base - h, width: Math.max(1, width - 1), height: h }));
      });
    }
    g.append(svg("line", { class: "axis", x1: left, x2: right, y1: base, y2: base }));
    const mid = base - 22;
    if (at[10] !== undefined && at[90] !== undefined) g.append(svg("line", { class: "whisker", x1: x(at[10]), x2: x(at[90]), y1: mid, y2: mid }));
    if (at[25] !== undefined && at[75] !== undefined) g.append(svg("rect", { class: "band", x: x(at[25]), y: mid - 10, width: Math.max(1, x(at[75]) - x(at[25])), height: 20, rx: 3 }));
    for (const [p, v] of points) {
      if (p === 50) continue;
      g.append(svg("line", { class: "tick", x1: x(v), x2: x(v), y1: mid - 7, y2: mid + 7 }));
    }
    if (at[50] !== undefined) {
      g.append(svg("line", { class: "median", x1: x(at[50]), x2: x(at[50]), y1: top - 2, y2: base }));
      const anchor = x(at[50]) > W * 0.8 ? "end" : x(at[50]) < W * 0.2 ? "start" : "middle";
      g.append(svg("text", { class: "m", x: x(at[50]), y: top - 5, "text-anchor": anchor }, `median ${metric.fmt(at[50])}`));
    }
    g.append(svg("text", { x: left, y: base + 15 }, metric.fmt(Math.max(0, Math.round(lo)))));
    g.append(svg("text", { x: right, y: base + 15, "text-anchor": "end" }, metric.fmt(Math.round(hi))));
    const spread = at[10] !== undefined && at[90] !== undefined ? `p10–p90 ${metric.fmt(at[10])} – ${metric.fmt(at[90])}` : "median only in the API";
    return el("div", { class: "chart", "data-metric": metric.key }, el("h3", {}, metric.title, el("span", { class: "muted", text: spread })), g);
  }

  poll();
})();
