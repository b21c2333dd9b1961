"use strict";
// FreezR dashboard: the last 15 minutes from the history, then live over /ws; longer ranges
// from /api/v1/history and /api/v1/history/system.
(() => {
  const LIVE_SECONDS = 15 * 60;
  const RANGES = { live: LIVE_SECONDS, "1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600 };
  const $ = (id) => document.getElementById(id);
  // The token lives for this tab only (sessionStorage), and goes with every request once given.
  const savedToken = () => sessionStorage.getItem("freezr-token") || "";
  const api = (url, opts = {}) => fetch(url, { ...opts, headers: { ...(opts.headers || {}),
    ...(savedToken() ? { Authorization: "Bearer " + savedToken() } : {}) } });
  // An element with attributes and children (text children are never parsed as HTML). style is
  // an object of properties, set through the CSSOM (the page's CSP refuses style attributes).
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k === "style") for (const [p, x] of Object.entries(v)) e.style.setProperty(p, x);
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v != null && v !== false) e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  }
  const series = () => ({ times: [], cpu: {}, mem: {}, used: [], psi: [] });
  const state = {
    ticks: 0, control: false, needToken: false, sortKey: "cpu", sortDesc: true, range: "live",
    backfilled: false, pending: [], now: Date.now() / 1000, interval: 1,
    live: series(), view: series(), processes: [], rules: [], profiles: [], profile: null,
  };
  window.freezr = state;  // for tests and the curious

  // A rule's colour follows from its name alone, so it is the same in every view and reload.
  const PALETTE = ["#1570ef", "#dc6803", "#079455", "#d92d20", "#7a5af8", "#dd2590", "#0e9384",
                   "#4e5ba6", "#93370d", "#66c61c"];
  function colorOf(name) {
    let h = 2166136261;
    for (const ch of name) h = Math.imul(h ^ ch.codePointAt(0), 16777619) >>> 0;
    return PALETTE[h % PALETTE.length];
  }
  state.colorOf = colorOf;
  const css = (v) => getComputedStyle(document.documentElement).getPropertyValue(v).trim();

  const charts = {};
  state.charts = charts;
  function chart(id, names, unit, colors) {
    const box = $(id);
    const key = id + ":" + names.join(",");
    if (charts[id] && charts[id].key === key) return charts[id].plot;
    if (charts[id]) charts[id].plot.destroy();
    const axis = { stroke: css("--fg"), grid: { stroke: css("--line") }, ticks: { stroke: css("--line") } };
    const plot = new uPlot({
      width: Math.max(280, box.clientWidth), height: 220,
      series: [{}, ...names.map((n, i) => ({ label: n, stroke: colors[i], width: 2,
                                              value: (u, v) => v == null ? "–" : v.toFixed(1) + unit }))],
      axes: [{ ...axis }, { ...axis, size: 60 }],
      scales: { x: { time: true, range: () => [state.now - RANGES[state.range], state.now] } },
    }, [[], ...names.map(() => [])], box);
    charts[id] = { key, plot };
    return plot;
  }
  window.addEventListener("resize", () => {
    for (const id in charts) charts[id].plot.setSize({ width: Math.max(280, $(id).clientWidth), height: 220 });
  });

  function draw() {
    const s = state.range === "live" ? state.live : state.view;
    const names = Object.keys(s.cpu).sort();
    const colors = names.map(colorOf);
    chart("cpu-chart", names, "%", colors).setData([s.times, ...names.map((n) => s.cpu[n])]);
    chart("mem-chart", names, " MiB", colors).setData([s.times, ...names.map((n) => s.mem[n])]);
    chart("sys-chart", ["memory used %", "PSI some avg10"], "", ["#1570ef", "#d92d20"])
      .setData([s.times, s.used, s.psi]);
  }

  // Adds one point in time to s: rules is {name: [cpu, rss]}, sys [used, psi].
  function addPoint(s, t, rules, sys) {
    const n = s.times.length;
    for (const name of Object.keys(rules)) {
      if (!s.cpu[name]) { s.cpu[name] = new Array(n).fill(null); s.mem[name] = new Array(n).fill(null); }
    }
    s.times.push(t);
    for (const name of Object.keys(s.cpu)) {
      const v = rules[name];
      s.cpu[name].push(v ? v[0] : null);
      s.mem[name].push(v ? v[1] : null);
    }
    s.used.push(sys[0]);
    s.psi.push(sys[1]);
  }

  // The history's pages, from since, per scan or per minute.
  async function pages(path, since, minutes) {
    const rows = [];
    for (let cursor = ""; ;) {
      const r = await api(`${path}?since=${since}&minutes=${minutes ? 1 : 0}&limit=10000${cursor}`);
      if (!r.ok) break;
      const page = await r.json();
      rows.push(...page.samples);
      if (!page.next) break;
      cursor = "&cursor=" + page.next;
    }
    return rows;
  }
  async function fromHistory(since, minutes) {
    const [samples, system] = await Promise.all([pages("/api/v1/history", since, minutes),
                                                 pages("/api/v1/history/system", since, minutes)]);
    const at = new Map();
    const point = (t) => at.get(t) || (at.set(t, { rules: {}, sys: [null, null] }), at.get(t));
    for (const x of samples) point(x.ts).rules[x.rule] = [x.cpu_percent, x.rss_mib];
    for (const x of system) point(x.ts).sys = [x.memory_used_percent, x.psi_some_avg10];
    const s = series();
    for (const t of [...at.keys()].sort((a, b) => a - b)) addPoint(s, t, at.get(t).rules, at.get(t).sys);
    return s;
  }

  function pushLive(u) {
    const s = state.live;
    if (s.times.length && u.t <= s.times[s.times.length - 1]) return;  // already backfilled
    const rules = {};
    for (const r of u.rules) rules[r.name] = [r.cpu_percent, r.rss_mib];
    addPoint(s, u.t, rules, [u.health.memory_used_percent ?? null, u.health.psi_some_avg10 ?? null]);
    let drop = 0;
    while (drop < s.times.length && s.times[drop] < u.t - LIVE_SECONDS) drop++;
    if (drop) {
      s.times.splice(0, drop); s.used.splice(0, drop); s.psi.splice(0, drop);
      for (const n of Object.keys(s.cpu)) { s.cpu[n].splice(0, drop); s.mem[n].splice(0, drop); }
    }
  }

  async function backfill() {
    try {
      const s = await fromHistory("15m", false);
      if (s.times.length) state.live = s;
      if (s.times.length) state.now = Math.max(state.now, s.times[s.times.length - 1]);
    } catch (e) { /* no history: the live view starts empty */ }
    state.backfilled = true;
    for (const u of state.pending) pushLive(u);
    state.pending = [];
    draw();
  }

  function header(u) {
    $("scans").textContent = u.scans;
    $("mode").textContent = u.dry_run ? "dry-run" : "acting";
    $("mode").className = "pill " + (u.dry_run ? "warning" : "on");
    $("pressure").textContent = "pressure: " + u.pressure;
    $("pressure").className = "pill " + u.pressure;
    $("profile").hidden = !state.profiles.length;
    $("profile").textContent = `profile: ${u.profile || "none"} (${u.profile_mode})`;
    if (u.profile !== state.profile) { state.profile = u.profile; profilePick(); }
    $("thermal").replaceChildren(...(u.thermal || []).map((t) => el("span", {
      class: "pill " + (t.hot ? "warning" : "on"),
      text: `${t.name} ${t.celsius == null ? "unreadable" : t.celsius.toFixed(1) + " °C"}${t.hot ? " hot" : ""}` })));
    const h = u.health;
    $("health").textContent = [h.load1 != null ? "load " + h.load1.toFixed(2) : "",
      h.memory_used_percent != null ? "memory " + h.memory_used_percent.toFixed(1) + "% used" : ""]
      .filter(Boolean).join(" · ");
  }

  const seconds = (s) => s >= 90 ? `${Math.floor(s / 60)}m ${Math.round(s % 60)}s` : `${Math.round(s)} s`;
  const clock = (ts) => new Date(ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

  // --- rules: one card each, the live value against every step of its ladder ---
  function ruleCards(rules, predictions) {
    $("rules").replaceChildren(...rules.map((r) => {
      const steps = r.steps || [];
      const rows = steps.map((st, i) => {
        const limits = [];
        if (st.cpu_threshold != null) limits.push([r.cpu_percent, st.cpu_threshold, "%"]);
        if (st.memory_threshold != null) limits.push([r.rss_mib, st.memory_threshold, " MiB"]);
        return el("tr", { class: r.highest_step_taken != null && i <= r.highest_step_taken ? "taken" : "" },
          el("td", { text: String(i + 1) }),
          el("td", { text: st.action + (st.duration ? ` ${st.duration} s` : "") }),
          el("td", {}, ...limits.map(([v, max, unit]) => el("div", { class: "limit" },
            el("span", { text: `${v.toFixed(1)} / ${max}${unit}` }),
            el("span", { class: "bar" + (v > max ? " over" : ""), "aria-hidden": "true" },
               el("span", { style: { width: `${Math.min(100, (v / max) * 100).toFixed(0)}%` } }))))),
          el("td", { class: "num", text: `${st.streak} / ${st.violations}` }));
      });
      const next = r.next ? `next: ${r.next.action} (step ${r.next.step + 1}) ` +
          (r.next.in_scans ? `in ${r.next.in_scans} scan${r.next.in_scans === 1 ? "" : "s"} ` +
           `(~${seconds(r.next.in_seconds)}) if it goes on` : "at the next scan")
        : r.highest_step_taken != null ? `step ${r.highest_step_taken + 1} taken, holding` : "nothing violates it";
      const leaks = (predictions.leaks || []).filter((l) => l.rule === r.name).map((l) =>
        el("li", { class: "warn", text: `leak: pid ${l.pid} +${l.mib_per_minute.toFixed(1)} MiB/min` +
          (l.seconds_to_limit != null ? `, reaches ${l.limit_mib} MiB in ${seconds(l.seconds_to_limit)}` : "") }));
      const anomalies = (predictions.anomaly_counts || {})[r.name];
      return el("article", { class: "rule-card", "data-rule": r.name, style: { "--rule": colorOf(r.name) } },
        el("h3", {}, el("span", { class: "swatch", "aria-hidden": "true" }), r.name + " ",
           el("small", { text: `${r.action} · ${r.processes} process${r.processes === 1 ? "" : "es"}` +
                               (r.enabled ? "" : " · disabled") })),
        el("p", { text: `CPU ${r.cpu_percent.toFixed(1)}% · RSS ${r.rss_mib.toFixed(1)} MiB · ` +
                        `${r.actions} action${r.actions === 1 ? "" : "s"}` }),
        steps.length ? el("table", { class: "steps" },
          el("caption", { class: "sr-only", text: `ladder of rule ${r.name}` }),
          el("thead", {}, el("tr", {}, ...["step", "action", "now / threshold", "streak"]
            .map((h) => el("th", { scope: "col", text: h })))),
          el("tbody", {}, ...rows)) : null,
        el("p", { class: "next" + (r.next ? " warn" : ""), text: next }),
        leaks.length || anomalies ? el("ul", { class: "rule-predictions" }, ...leaks,
          anomalies ? el("li", { text: `${anomalies} CPU anomal${anomalies === 1 ? "y" : "ies"} since start` }) : null)
          : null);
    }));
  }

  // --- the process table: rows kept and updated in place, so a click always lands ---
  const rowOf = new Map();
  function table() {
    const f = $("filter").value.trim().toLowerCase();
    const rows = state.processes.filter((p) => !f || p.name.toLowerCase().includes(f) ||
      String(p.pid).includes(f) || (p.rule || "").toLowerCase().includes(f) ||
      (p.category || "").toLowerCase().includes(f) || (p.unit || "").toLowerCase().includes(f));
    const k = state.sortKey, dir = state.sortDesc ? -1 : 1;
    rows.sort((a, b) => (a[k] > b[k] ? 1 : a[k] < b[k] ? -1 : 0) * dir);
    const body = document.querySelector("#procs tbody");
    const shown = new Set();
    rows.slice(0, 200).forEach((p, i) => {
      let tr = rowOf.get(p.pid);
      if (!tr || tr.dataset.name !== p.name) {
        if (tr) tr.remove();
        const why = el("button", { type: "button", class: "link", text: p.name,
                                   "aria-label": `why: pid ${p.pid} ${p.name}`,
                                   onclick: () => showWhy(p.pid, p.name) });
        tr = el("tr", {}, el("td"), el("td", {}, why), el("td", { class: "num" }), el("td", { class: "num" }),
                el("td", { class: "num" }), el("td"), el("td"), el("td", { class: "num" }), el("td"));
        tr.dataset.name = p.name;
        rowOf.set(p.pid, tr);
      }
      const disk = p.io == null ? "–" : (p.io / 1048576).toFixed(1);
      const texts = [p.pid, null, p.cpu.toFixed(1), p.rss.toFixed(1), disk, p.category || "–", p.rule || "–", p.streak, p.unit || "–"];
      texts.forEach((t, c) => { if (t != null && tr.cells[c].textContent !== String(t)) tr.cells[c].textContent = t; });
      tr.className = p.streak > 0 ? "violating" : "";
      if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
      shown.add(p.pid);
    });
    for (const [pid, tr] of rowOf) if (!shown.has(pid)) { tr.remove(); rowOf.delete(pid); }
  }
  document.querySelectorAll("#procs th button").forEach((b) => b.addEventListener("click", () => {
    const th = b.parentElement, k = th.dataset.key;
    state.sortDesc = state.sortKey === k ? !state.sortDesc : true;
    state.sortKey = k;
    document.querySelectorAll("#procs th").forEach((h) => h.setAttribute("aria-sort",
      h === th ? (state.sortDesc ? "descending" : "ascending") : "none"));
    table();
  }));
  $("filter").addEventListener("input", table);

  // --- events: the same one again collapses into one line that counts them ---
  const eventLines = new Map();
  const seenEvents = new Set();
  function events(list) {
    const ul = $("events");
    for (const e of list) {
      if (e.kind === "decision") continue;  // the detail behind actions: in the why view
      // The same event again, whatever its figures: "would send SIGTERM (because cpu 97.1% …)".
      const key = [e.kind, e.rule, e.action, e.pid, e.message.replace(/\d+(\.\d+)?/g, "#")].join("\u0001");
      if (seenEvents.has(e.ts + key)) continue;  // the same event from the history and the feed
      seenEvents.add(e.ts + key);
      let line = eventLines.get(key);
      if (!line) {
        const text = el("span");
        const li = el("li", { class: e.ok === false ? "failed" : "" }, text);
        if (e.pid && e.kind !== "lifecycle") li.append(" ", el("button", { type: "button", class: "link", text: "why",
          "aria-label": `why: pid ${e.pid} ${e.name || ""}`.trim(), onclick: () => showWhy(e.pid, e.name) }));
        line = { li, text, count: 0, first: e.ts };
        eventLines.set(key, line);
      }
      line.count++;
      line.text.textContent = `${new Date(e.ts * 1000).toLocaleTimeString()} ${e.kind}` +
        `${e.rule ? " [" + e.rule + "]" : ""}${e.action ? " " + e.action : ""}` +
        `${e.pid ? " pid " + e.pid + (e.name ? " " + e.name : "") : ""}: ${e.message}` +
        (line.count > 1 ? ` — ${line.count} times since ${clock(line.first)}` : "");
      ul.prepend(line.li);
    }
    while (ul.children.length > 200) {
      const last = ul.lastChild;
      for (const [k, v] of eventLines) if (v.li === last) eventLines.delete(k);
      last.remove();
    }
  }

  function predictions(p) {
    const items = [];
    for (const l of p.leaks || []) {
      items.push(["warn", `leak [${l.rule}] pid ${l.pid} ${l.name}: +${l.mib_per_minute.toFixed(1)} MiB/min, ` +
        `now ${l.rss_mib.toFixed(1)} MiB (${Math.round(l.agreement * 100)}% of ${l.points} samples' pairs rising` +
        ` over ${Math.round(l.window_seconds)} s)` +
        (l.seconds_to_limit != null ? `, reaches ${l.limit_mib} MiB in ${Math.round(l.seconds_to_limit)} s` : "")]);
    }
    if (p.exhaustion) {
      const e = p.exhaustion;
      items.push(["bad", `memory exhaustion in ${Math.round(e.seconds)} s (${Math.round(e.seconds_low)}–` +
        `${e.seconds_high == null ? "∞" : Math.round(e.seconds_high)} s): available ${Math.round(e.available_mib)} MiB ` +
        `falling ${(-e.mib_per_minute).toFixed(1)} MiB/min to ${Math.round(e.critical_mib)} MiB`]);
    }
    for (const a of (p.anomalies || []).slice(0, 5)) {
      items.push(["", `cpu anomaly [${a.rule}] pid ${a.pid} ${a.name}: ${a.cpu.toFixed(1)}% against ` +
        `${a.baseline.toFixed(1)}% ± ${a.deviation.toFixed(1)}`]);
    }
    $("predictions").replaceChildren(...(items.length ? items : [["muted", "nothing predicted"]])
      .map(([cls, text]) => el("li", { class: cls, text })));
  }

  // --- frozen: rebuilt only when the set changes; the time left is updated in place ---
  let frozenShown = null;
  function frozen(list) {
    const token = savedToken();
    $("token-box").hidden = !state.control && !state.needToken;
    const key = JSON.stringify([state.control, !!token, list.map((f) => [f.pid, f.rule, f.kind, f.name])]);
    if (key !== frozenShown) {
      frozenShown = key;
      $("frozen").replaceChildren(...list.map((f) => {
        const li = el("li", { "data-pid": f.pid },
          el("b", { text: f.name || "?" }),
          el("span", { text: ` pid ${f.pid} · rule ${f.rule} · ${f.how} · ` }),
          el("span", { class: "left" }));
        if (state.control && token) {
          const b = el("button", { type: "button", text: "Thaw now", "aria-label": `thaw pid ${f.pid}` });
          b.onclick = async () => {
            b.disabled = true;
            const r = await api(`/api/v1/thaw?pid=${f.pid}`, { method: "POST" });
            const why = r.ok ? "" : ((await r.json().catch(() => ({}))).error || "");
            $("frozen-msg").textContent = r.ok ? `thawed ${f.name || "pid " + f.pid} (pid ${f.pid})`
              : `thaw of pid ${f.pid} failed (HTTP ${r.status}${why ? ": " + why : ""})`;
            if (!r.ok) b.disabled = false;
          };
          li.append(b);
        }
        return li;
      }));
      if (!list.length) $("frozen").replaceChildren(el("li", { class: "muted", text: "nothing is frozen" }));
    }
    for (const f of list) {
      const left = document.querySelector(`#frozen li[data-pid="${f.pid}"] .left`);
      if (left) left.textContent = f.until == null ? "until thawed" : `${seconds(Math.max(0, f.until - state.now))} left`;
    }
  }
  $("token").addEventListener("change", (e) => {
    sessionStorage.setItem("freezr-token", e.target.value);
    frozenShown = null;
    if (socket) socket.close();  // reconnects with the token
    status();
  });

  // --- why: every decision about a process, with its reason ---
  async function showWhy(pid, name) {
    $("why-title").textContent = `Why: pid ${pid}${name ? " " + name : ""}`;
    const list = $("why-list");
    list.replaceChildren(el("li", { class: "muted", text: "loading…" }));
    if (!$("why").open) $("why").showModal();
    const r = await api(`/api/v1/why?pid=${pid}&limit=50`).catch(() => null);
    const d = r && r.ok ? await r.json() : null;
    if (!d) { list.replaceChildren(el("li", { class: "muted", text: "no history available" })); return; }
    list.replaceChildren(...(d.entries.length ? d.entries.map((e) => el("li",
      { class: e.ok === false ? "failed" : "" },
      el("b", { text: `${new Date(e.ts * 1000).toLocaleTimeString()} ${e.kind}` }),
      `${e.rule ? " [" + e.rule + "]" : ""}${e.action ? " " + e.action : ""}: ${e.message}`))
      : [el("li", { class: "muted", text: "FreezR decided nothing about this process" })]));
  }
  $("why-close").addEventListener("click", () => $("why").close());

  // --- profile: shown in the header; with control and a token, a choice switches it ---
  function profilePick() {
    const box = $("profile-box");
    box.hidden = !(state.control && savedToken() && state.profiles.length);
    if (box.hidden) return;
    const choices = [["", "none"], ...state.profiles.map((p) => [p.name, p.name]), ["auto", "automatic"]];
    $("profile-pick").replaceChildren(...choices.map(([value, text]) =>
      el("option", { value, text, selected: value === (state.profile || "") })));
  }
  $("profile-pick").addEventListener("change", async (e) => {
    const v = e.target.value;
    const body = v === "auto" ? { mode: "auto" } : { profile: v || null };
    const r = await api("/api/v1/profile", { method: "PUT", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" } });
    const d = await r.json().catch(() => ({}));
    $("frozen-msg").textContent = r.ok ? `profile: ${d.name || "none"} (${d.mode})`
      : `profile switch failed (HTTP ${r.status}${d.error ? ": " + d.error : ""})`;
    if (r.ok) { state.profile = d.name; $("profile").textContent = `profile: ${d.name || "none"} (${d.mode})`; }
  });
  function profiles() {
    api("/api/v1/profile").then((r) => r.ok ? r.json() : null).then((p) => {
      if (!p) return;
      state.profiles = p.profiles;
      state.profile = p.name;
      $("profile").hidden = !p.profiles.length;
      $("profile").textContent = `profile: ${p.name || "none"} (${p.mode})`;
      profilePick();
    }).catch(() => {});
  }

  // Beyond loopback FreezR wants the token for reads too: a 401 shows the token box.
  function status() {
    api("/api/v1/status").then((r) => {
      state.needToken = r.status === 401;
      $("token-box").hidden = !state.needToken && !state.control;
      return r.ok ? r.json() : null;
    }).then((s) => {
      if (s) { state.control = !!s.control; state.interval = s.interval; profiles(); }
    }).catch(() => {});
  }

  let backoff = 500;
  let socket = null;
  function connect() {
    // A browser cannot set headers on a WebSocket: the token travels as a subprotocol.
    const protocols = savedToken() ? ["freezr", "bearer." + savedToken()] : ["freezr"];
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws",
      protocols);
    socket = ws;
    ws.onopen = () => {
      backoff = 500;
      $("conn").textContent = "live";
      $("conn").className = "pill on";
      status();
    };
    ws.onmessage = (m) => {
      const u = JSON.parse(m.data);
      state.ticks++;
      state.now = u.t;
      // Disk: reads and writes together, where FreezR reads the process's I/O (else null).
      state.processes = u.processes.map((p) => ({ ...p,
        io: p.io_read == null && p.io_write == null ? null : (p.io_read || 0) + (p.io_write || 0) }));
      state.rules = u.rules;
      header(u);
      if (state.backfilled) pushLive(u); else state.pending.push(u);
      if (state.backfilled && state.range === "live") draw();
      table();
      ruleCards(u.rules, u.predictions || {});
      events(u.events);
      frozen(u.frozen);
      predictions(u.predictions || {});
    };
    ws.onclose = () => {
      $("conn").textContent = "disconnected, retrying…";
      $("conn").className = "pill off";
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  }

  $("range").addEventListener("change", async (e) => {
    const range = e.target.value;
    state.range = range;
    if (range !== "live") {
      const s = await fromHistory(range, true);
      if (state.range !== range) return;  // changed again meanwhile
      state.view = s;
    }
    draw();
  });

  api("/api/v1/events?since=1h&limit=100&order=desc").then((r) => r.ok ? r.json() : { events: [] })
    .then((d) => events(d.events.reverse())).catch(() => {});
  backfill();
  connect();
})();
