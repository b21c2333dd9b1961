"use strict";
// FreezR dashboard: live updates over /ws, longer ranges from /api/v1/history.
(() => {
  const LIVE_SECONDS = 15 * 60;
  const $ = (id) => document.getElementById(id);
  // The token lives for this tab only (sessionStorage), and goes with every request once given.
  const savedToken = () => sessionStorage.getItem("freezr-token") || "";
  const api = (url, opts = {}) => fetch(url, { ...opts, headers: { ...(opts.headers || {}),
    ...(savedToken() ? { Authorization: "Bearer " + savedToken() } : {}) } });
  const state = {
    ticks: 0, control: false, needToken: false, sortKey: "cpu", sortDesc: true, range: "live",
    times: [], rules: [], cpu: {}, mem: {}, sys: { used: [], psi: [] }, processes: [],
  };
  window.freezr = state;  // for tests and the curious

  const charts = {};
  function chart(id, names, unit) {
    const el = $(id);
    const key = id + ":" + names.join(",");
    if (charts[id] && charts[id].key === key) return charts[id].plot;
    if (charts[id]) charts[id].plot.destroy();
    const colors = ["#2e90fa", "#f79009", "#12b76a", "#d92d20", "#7a5af8", "#ee46bc", "#0e9384"];
    const plot = new uPlot({
      width: Math.max(280, el.clientWidth), height: 220,
      series: [{}, ...names.map((n, i) => ({ label: n, stroke: colors[i % colors.length], width: 2,
                                              value: (u, v) => v == null ? "–" : v.toFixed(1) + unit }))],
      axes: [{}, { size: 60 }],
      scales: { x: { time: true } },
    }, [[], ...names.map(() => [])], el);
    charts[id] = { key, plot };
    return plot;
  }
  window.addEventListener("resize", () => {
    for (const id in charts) charts[id].plot.setSize({ width: Math.max(280, $(id).clientWidth), height: 220 });
  });

  function draw() {
    const names = state.rules;
    chart("cpu-chart", names, "%").setData([state.times, ...names.map((n) => state.cpu[n] || [])]);
    chart("mem-chart", names, " MiB").setData([state.times, ...names.map((n) => state.mem[n] || [])]);
    chart("sys-chart", ["memory used %", "PSI some avg10"], "")
      .setData([state.times, state.sys.used, state.sys.psi]);
  }

  function pushLive(u) {
    if (state.range !== "live") return;
    const names = u.rules.map((r) => r.name);
    if (names.join() !== state.rules.join()) {
      state.rules = names;
      state.times = []; state.cpu = {}; state.mem = {}; state.sys = { used: [], psi: [] };
    }
    state.times.push(u.t);
    for (const r of u.rules) {
      (state.cpu[r.name] = state.cpu[r.name] || []).push(r.cpu);
      (state.mem[r.name] = state.mem[r.name] || []).push(r.rss_mib);
    }
    state.sys.used.push(u.health.memory_used_percent ?? null);
    state.sys.psi.push(u.health.psi_some_avg10 ?? null);
    while (state.times.length && state.times[0] < u.t - LIVE_SECONDS) {
      state.times.shift();
      for (const n of names) { state.cpu[n].shift(); state.mem[n].shift(); }
      state.sys.used.shift(); state.sys.psi.shift();
    }
    draw();
  }

  function header(u) {
    $("scans").textContent = u.scans;
    $("mode").textContent = u.dry_run ? "dry-run" : "acting";
    $("mode").className = "pill " + (u.dry_run ? "warning" : "on");
    $("pressure").textContent = "pressure: " + u.pressure;
    $("pressure").className = "pill " + u.pressure;
    const h = u.health;
    $("health").textContent = [h.load1 != null ? "load " + h.load1.toFixed(2) : "",
      h.memory_used_percent != null ? "memory " + h.memory_used_percent.toFixed(1) + "% used" : ""]
      .filter(Boolean).join(" · ");
  }

  function table() {
    const f = $("filter").value.trim().toLowerCase();
    const rows = state.processes.filter((p) => !f || p.name.toLowerCase().includes(f) ||
      String(p.pid).includes(f) || (p.rule || "").toLowerCase().includes(f) ||
      (p.category || "").toLowerCase().includes(f));
    const k = state.sortKey, dir = state.sortDesc ? -1 : 1;
    rows.sort((a, b) => (a[k] > b[k] ? 1 : a[k] < b[k] ? -1 : 0) * dir);
    const body = document.querySelector("#procs tbody");
    body.replaceChildren(...rows.slice(0, 200).map((p) => {
      const tr = document.createElement("tr");
      if (p.streak > 0) tr.className = "violating";
      for (const [v, cls] of [[p.pid, ""], [p.name, ""], [p.cpu.toFixed(1), "num"],
                              [p.rss.toFixed(1), "num"], [p.category || "–", ""],
                              [p.rule || "–", ""], [p.streak, "num"]]) {
        const td = document.createElement("td");
        td.textContent = v;
        if (cls) td.className = cls;
        tr.appendChild(td);
      }
      return tr;
    }));
  }
  document.querySelectorAll("#procs th").forEach((th) => th.addEventListener("click", () => {
    const k = th.dataset.key;
    state.sortDesc = state.sortKey === k ? !state.sortDesc : true;
    state.sortKey = k;
    table();
  }));
  $("filter").addEventListener("input", table);

  function events(list) {
    const ol = $("events");
    for (const e of list) {
      const li = document.createElement("li");
      const when = new Date(e.ts * 1000).toLocaleTimeString();
      li.textContent = `${when} ${e.kind} ${e.rule ? "[" + e.rule + "] " : ""}` +
        `${e.action || ""} ${e.pid ? "pid " + e.pid + " " + (e.name || "") : ""}: ${e.message}`;
      if (e.ok === false) li.className = "failed";
      ol.prepend(li);
    }
    while (ol.children.length > 200) ol.lastChild.remove();
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
      .map(([cls, text]) => Object.assign(document.createElement("li"), { className: cls, textContent: text })));
  }

  // Rebuilt only when what it shows changes, so that a click is never lost on a button the
  // next scan replaced.
  let frozenShown = null;
  function frozen(list) {
    const token = savedToken();
    $("token-box").hidden = !state.control && !state.needToken;
    const key = JSON.stringify([state.control, !!token, list.map((f) => [f.pid, f.rule, f.kind])]);
    if (key === frozenShown) return;
    frozenShown = key;
    $("frozen").replaceChildren(...list.map((f) => {
      const li = document.createElement("li");
      li.textContent = `pid ${f.pid} (${f.rule}, ${f.kind})`;
      if (state.control && token) {
        const b = document.createElement("button");
        b.textContent = "thaw";
        b.setAttribute("aria-label", `thaw pid ${f.pid}`);
        b.onclick = async () => {
          b.disabled = true;
          const r = await api(`/api/v1/thaw?pid=${f.pid}`, { method: "POST" });
          b.textContent = r.ok ? "thawed" : `failed (${r.status})`;
        };
        li.appendChild(b);
      }
      return li;
    }));
    if (!list.length) $("frozen").replaceChildren(Object.assign(document.createElement("li"),
      { textContent: "nothing is frozen", className: "muted" }));
  }
  $("token").addEventListener("change", (e) => {
    sessionStorage.setItem("freezr-token", e.target.value);
    frozenShown = null;
    if (socket) socket.close();  // reconnects with the token
    status();
  });

  // Beyond loopback FreezR wants the token for reads too: a 401 shows the token box.
  function status() {
    api("/api/v1/status").then((r) => {
      state.needToken = r.status === 401;
      $("token-box").hidden = !state.needToken && !state.control;
      return r.ok ? r.json() : null;
    }).then((s) => { if (s) state.control = !!s.control; }).catch(() => {});
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
      state.processes = u.processes;
      header(u);
      pushLive(u);
      table();
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
    state.range = e.target.value;
    state.times = []; state.cpu = {}; state.mem = {}; state.sys = { used: [], psi: [] };
    if (state.range === "live") return;
    // The history comes in pages; each answer says where the next one starts.
    const samples = [];
    for (let cursor = ""; ;) {
      const r = await api(`/api/v1/history?since=${state.range}&minutes=1&limit=10000${cursor}`);
      const page = await r.json();
      samples.push(...page.samples);
      if (!page.next) break;
      cursor = "&cursor=" + page.next;
    }
    const names = [...new Set(samples.map((s) => s.rule))];
    const times = [...new Set(samples.map((s) => s.ts))].sort((a, b) => a - b);
    state.rules = names; state.times = times;
    for (const n of names) {
      const by = new Map(samples.filter((s) => s.rule === n).map((s) => [s.ts, s]));
      state.cpu[n] = times.map((t) => by.get(t)?.cpu_percent ?? null);
      state.mem[n] = times.map((t) => by.get(t)?.rss_mib ?? null);
    }
    state.sys = { used: times.map(() => null), psi: times.map(() => null) };
    draw();
  });

  api("/api/v1/events?since=1h&limit=100&order=desc").then((r) => r.ok ? r.json() : { events: [] })
    .then((d) => events(d.events.reverse())).catch(() => {});
  connect();
})();
