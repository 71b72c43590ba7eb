/**
 * The dashboard page: one self-contained HTML document — inline CSS, vanilla JS, an SVG
 * chart; no framework, no CDN, nothing for the user to build. It is a TypeScript string
 * (String.raw, so the script's backslashes reach the browser as written) rather than an
 * `.html` text module: the local stack runs the deploy bundle as a single ES module.
 * Keep the markup free of backticks and dollar-brace sequences.
 *
 * `{{NONCE}}` is replaced per response with the Content-Security-Policy nonce.
 */
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>push-edge dashboard</title>
<style>
  :root { --fg: #1d2430; --muted: #667085; --line: #d8dde6; --bg: #f6f7f9; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 17px; margin: 0; }
  #status { color: var(--muted); }
  #status.live { color: var(--ok); }
  #status.down { color: var(--bad); }
  main { padding: 16px 20px; display: grid; gap: 16px; max-width: 1200px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; }
  section h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .healthy { color: var(--ok); } .unhealthy { color: var(--bad); }
  .state-draining, .state-maintenance { color: var(--warn); } .state-blocked { color: var(--bad); }
  .bar { width: 120px; height: 10px; background: #eceff3; border-radius: 5px; overflow: hidden; }
  .bar > div { height: 100%; background: #3b82f6; }
  .bar.high > div { background: var(--bad); }
  input, button { font: inherit; }
  input.rate { width: 60px; }
  button { padding: 3px 10px; border: 1px solid var(--line); border-radius: 4px; background: #fff; cursor: pointer; }
  button:hover { background: #eef2f7; }
  button.drain { border-color: var(--warn); } button.block { border-color: var(--bad); } button.activate { border-color: var(--ok); }
  svg.chart { width: 100%; height: 220px; display: block; }
  .legend span { margin-right: 14px; }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
  #login { max-width: 420px; }
  #login input { width: 100%; padding: 6px; margin: 6px 0; }
  .error { color: var(--bad); }
  .muted { color: var(--muted); }
  pre { background: var(--bg); padding: 8px; overflow: auto; max-height: 320px; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header>
  <h1>push-edge</h1>
  <span id="status">signed out</span>
  <span style="flex:1"></span>
  <button id="signout" hidden>Sign out</button>
</header>
<main>
  <section id="login">
    <h2>Sign in</h2>
    <form id="login-form">
      <label for="token">Admin token (ADMIN_TOKEN)</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required>
      <button type="submit">Sign in</button>
      <p id="login-error" class="error"></p>
      <p class="muted">The token stays in this tab (sessionStorage) and is sent as a Bearer header to the admin API.</p>
    </form>
  </section>
  <div id="pools"></div>
  <section id="lookup" hidden>
    <h2>Session lookup</h2>
    <form id="lookup-form">
      <input id="lookup-key" size="60" placeholder="session key, affinity token (= TLCP / Engine.IO session id at the edge), or the origin's session id">
      <button type="submit">Look up</button>
    </form>
    <div id="lookup-result"></div>
  </section>
</main>
<script nonce="{{NONCE}}">
"use strict";
(function () {
  var TOKEN_KEY = "pe_admin_token";
  var HISTORY_MS = 5 * 60 * 1000;
  var COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];
  var history = {};      // pool -> [{at, sessions: {origin: n}}]
  var streamAbort = null;

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }
  function setStatus(text, cls) { var s = $("status"); s.textContent = text; s.className = cls || ""; }

  function api(method, path, body) {
    var init = { method: method, headers: { authorization: "Bearer " + token() } };
    if (body !== undefined) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: "bad_response", message: text }; }
        if (res.status === 401) signOut("The admin token was refused.");
        if (!res.ok) {
          var err = new Error((data && data.message) || ("HTTP " + res.status));
          err.status = res.status;
          throw err;
        }
        return data;
      });
    });
  }

  // ---- live stream (server-sent events over fetch, so the Bearer header can be sent) ----
  function connect() {
    if (streamAbort) streamAbort.abort();
    var abort = new AbortController();
    streamAbort = abort;
    setStatus("connecting…");
    fetch("/_edge/admin/pool/stream", { headers: { authorization: "Bearer " + token() }, signal: abort.signal })
      .then(function (res) {
        if (res.status === 401) { signOut("The admin token was refused."); return; }
        if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
        setStatus("live", "live");
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) throw new Error("stream ended");
            buffer += decoder.decode(chunk.value, { stream: true });
            var cut;
            while ((cut = buffer.indexOf("\n\n")) >= 0) {
              handleEvent(buffer.slice(0, cut));
              buffer = buffer.slice(cut + 2);
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function (err) {
        if (abort.signal.aborted) return;
        setStatus("reconnecting (" + err.message + ")", "down");
        setTimeout(function () { if (streamAbort === abort && token()) connect(); }, 2000);
      });
  }

  function handleEvent(text) {
    var event = "message", data = "";
    text.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) event = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
    });
    if (!data) return;
    var payload = JSON.parse(data);
    if (event === "history") {
      payload.pools.forEach(function (p) { history[p.name] = p.points.slice(); });
    } else if (event === "pool") {
      payload.pools.forEach(function (pool) {
        var points = history[pool.name] || (history[pool.name] = []);
        var sessions = {};
        pool.origins.forEach(function (o) { sessions[o.id] = o.sessions; });
        points.push({ at: payload.at, sessions: sessions });
        while (points.length && points[0].at < payload.at - HISTORY_MS) points.shift();
      });
      render(payload.pools);
    }
  }

  // ---- pools table and chart ----
  // Rows are built once per set of origins and then updated in place, so a rate being
  // typed keeps its focus and value while events arrive every second.
  function render(pools) {
    var container = $("pools");
    pools.forEach(function (pool, i) {
      var id = "pool-" + i;
      var section = $(id);
      var ids = pool.origins.map(function (o) { return o.id; }).join(",");
      if (!section || section.getAttribute("data-origins") !== ids) {
        var fresh = el("section", { id: id, "data-pool": pool.name, "data-origins": ids }, [
          el("h2", { text: "Pool " + pool.name + " (" + pool.hosts.join(", ") + ")" }),
          originsTable(pool),
          el("p", { className: "muted rebalanced" }),
          el("div", { className: "chart-box" }),
        ]);
        if (section) container.replaceChild(fresh, section); else container.appendChild(fresh);
        section = fresh;
      }
      pool.origins.forEach(function (o) {
        var tr = section.querySelector('tr[data-origin="' + CSS.escape(o.id) + '"]');
        if (tr) updateRow(tr, o);
      });
      section.querySelector(".rebalanced").textContent = "Sessions moved by rebalancing: " + pool.rebalanced;
      section.querySelector(".chart-box").replaceChildren(chart(pool));
    });
  }

  function originsTable(pool) {
    var head = el("tr", {}, ["origin", "health", "state", "sessions", "capacity", "load", "drain", "rate /s", "actions"].map(function (h) { return el("th", { text: h }); }));
    var rows = pool.origins.map(function (o) {
      var rate = el("input", { className: "rate", type: "number", min: "0.1", step: "any", value: o.drain ? String(o.drain.rate) : "10", "aria-label": "rate for " + o.id });
      function act(state) {
        return function () {
          var body = { state: state };
          if (state === "drain" || state === "maintenance") body.rate = Number(rate.value) || 10;
          api("POST", "/_edge/admin/pools/" + encodeURIComponent(pool.name) + "/origins/" + encodeURIComponent(o.id) + "/state", body)
            .then(function () { setStatus("live — " + o.id + ": " + state, "live"); })
            .catch(function (err) { setStatus(o.id + ": " + err.message, "down"); });
        };
      }
      function button(label, state) {
        var b = el("button", { className: state, type: "button", "data-action": state, text: label });
        b.addEventListener("click", act(state));
        return b;
      }
      return el("tr", { "data-origin": o.id }, [
        el("td", { className: "origin", text: o.id, title: o.url }),
        el("td", { className: "health" }),
        el("td", { className: "state" }),
        // The edge's own count, then (when it differs) what the origin reports: an origin
        // keeps a session it was not told about until its own idle timeout, so after a
        // drain it may report sessions the edge has already moved.
        el("td", { className: "num sessions" }, [el("span", { className: "count" }), el("span", { className: "reported" })]),
        el("td", { className: "num capacity" }),
        el("td", {}, [el("div", { className: "bar" }, [el("div", {})])]),
        el("td", { className: "num drain-progress" }),
        el("td", {}, [rate]),
        el("td", {}, [button("Drain", "drain"), document.createTextNode(" "), button("Block", "block"), document.createTextNode(" "), button("Activate", "active")]),
      ]);
    });
    return el("table", {}, [el("thead", {}, [head]), el("tbody", {}, rows)]);
  }

  function updateRow(tr, o) {
    var health = tr.querySelector(".health");
    health.className = "health " + (o.healthy ? "healthy" : "unhealthy");
    // Why it is down, in the check's own words, and whether real traffic or a check said so.
    health.textContent = o.healthy ? "healthy" : "down" + (o.errorSource === "traffic" ? " by traffic" : "") + (o.lastError ? " (" + o.lastError + ")" : "");
    health.title = o.check ? "check: " + o.check + (o.checkNote ? "; last good: " + o.checkNote : "") : "";
    var state = tr.querySelector(".state");
    state.className = "state state-" + o.state;
    state.textContent = o.state + (o.reportedState !== "active" && o.reportedState !== "unknown" ? " / reports " + o.reportedState : "");
    tr.querySelector(".sessions .count").textContent = String(o.sessions);
    tr.querySelector(".sessions .reported").textContent = o.reportedSessions != null && o.reportedSessions !== o.sessions ? " (origin: " + o.reportedSessions + ")" : "";
    tr.querySelector(".capacity").textContent = String(o.capacity);
    var load = Math.max(0, Math.min(1, o.capacity > 0 ? o.sessions / o.capacity : 0));
    var bar = tr.querySelector(".bar");
    bar.className = "bar" + (load > 0.85 ? " high" : "");
    bar.title = (load * 100).toFixed(1) + "% of capacity (load " + o.load + ")";
    bar.firstChild.style.width = (load * 100).toFixed(1) + "%";
    tr.querySelector(".drain-progress").textContent = o.drain ? o.drain.ended + " ended @ " + o.drain.rate + "/s" : "—";
  }

  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function chart(pool) {
    var points = history[pool.name] || [];
    var W = 1000, H = 220, L = 40, B = 20, T = 10;
    var root = svg("svg", { class: "chart", viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img", "aria-label": "sessions per origin, last 5 minutes" });
    var now = points.length ? points[points.length - 1].at : Date.now();
    var max = 1;
    points.forEach(function (p) { Object.keys(p.sessions).forEach(function (k) { max = Math.max(max, p.sessions[k]); }); });
    max = Math.ceil(max * 1.1);
    function x(at) { return L + (W - L - 5) * (1 - (now - at) / HISTORY_MS); }
    function y(v) { return T + (H - T - B) * (1 - v / max); }
    [0, 0.5, 1].forEach(function (f) {
      var v = Math.round(max * f);
      root.appendChild(svg("line", { x1: L, x2: W, y1: y(v), y2: y(v), stroke: "#e5e7eb" }));
      var label = svg("text", { x: 4, y: y(v) + 4, "font-size": 11, fill: "#667085" });
      label.textContent = String(v);
      root.appendChild(label);
    });
    var minutes = svg("text", { x: L, y: H - 4, "font-size": 11, fill: "#667085" });
    minutes.textContent = "−5 min";
    root.appendChild(minutes);
    var legend = el("div", { className: "legend" });
    pool.origins.forEach(function (o, i) {
      var color = COLORS[i % COLORS.length];
      var d = "";
      points.forEach(function (p) {
        if (p.sessions[o.id] === undefined) return;
        d += (d ? " L" : "M") + x(p.at).toFixed(1) + " " + y(p.sessions[o.id]).toFixed(1);
      });
      if (d) root.appendChild(svg("path", { d: d, fill: "none", stroke: color, "stroke-width": 2, "vector-effect": "non-scaling-stroke", "data-origin": o.id }));
      legend.appendChild(el("span", {}, [el("i", { style: "background:" + color }), document.createTextNode(o.id + " " + o.sessions)]));
    });
    return el("div", {}, [el("h2", { text: "Sessions per origin" }), root, legend]);
  }

  // ---- session lookup ----
  function sessionKeyOf(input) {
    var text = input.trim();
    var parts = text.split(".");
    if (parts.length === 3) {
      // An affinity token (also a TLCP / Engine.IO session id through the edge): its sk claim.
      try {
        var json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
        var claims = JSON.parse(json);
        if (typeof claims.sk === "string") return claims.sk;
      } catch (e) { /* not a token */ }
    }
    return text;
  }

  // By session key (or a token's); failing that, by the origin's own id for the session.
  function lookup(event) {
    event.preventDefault();
    var typed = $("lookup-key").value.trim();
    var sk = sessionKeyOf(typed);
    var out = $("lookup-result");
    out.replaceChildren(el("p", { className: "muted", text: "looking up " + sk + "…" }));
    showSession(sk).catch(function (err) {
      if (err.status !== 404) throw err;
      return api("GET", "/_edge/admin/sessions?origin_session_id=" + encodeURIComponent(typed)).then(function (data) {
        if (data.sessions.length === 1) return showSession(data.sessions[0].sk);
        if (data.sessions.length === 0) throw new Error("no session with key or origin-side id " + typed);
        out.replaceChildren(el("p", { text: "Several sessions have origin-side id " + typed + ":" }), el("ul", {}, data.sessions.map(function (s) {
          var b = el("button", { type: "button", text: s.sk + " (" + s.pool + " / " + s.origin + ")" });
          b.addEventListener("click", function () { showSession(s.sk).catch(showError); });
          return el("li", {}, [b]);
        })));
      });
    }).catch(showError);
  }

  function showError(err) { $("lookup-result").replaceChildren(el("p", { className: "error", text: err.message })); }

  function showSession(sk) {
    return api("GET", "/_edge/admin/sessions/" + encodeURIComponent(sk)).then(function (data) {
      var s = data.session;
      var rows = [["session key", s.sk], ["pool", s.pool], ["origin", s.originId + " (" + s.originUrl + ")"], ["origin-side id", s.originSessionId || "—"],
        ["protocol", s.adapter], ["state", s.state + (s.endedReason ? " (" + s.endedReason + ")" : "")], ["created", new Date(s.createdAt).toISOString()],
        ["open WebSockets", String(data.openWebSockets)]];
      var events = data.events.map(function (e) {
        return el("tr", {}, [el("td", { text: new Date(e.at).toISOString() }), el("td", { text: e.kind }), el("td", { text: JSON.stringify(e.detail) })]);
      });
      $("lookup-result").replaceChildren(
        el("table", { id: "lookup-record" }, rows.map(function (r) { return el("tr", {}, [el("th", { text: r[0] }), el("td", { text: r[1] })]); })),
        el("h2", { text: "Event log" }),
        el("table", { id: "lookup-events" }, events)
      );
    });
  }

  // ---- sign in / out ----
  function signedIn() {
    $("login").hidden = true;
    $("lookup").hidden = false;
    $("signout").hidden = false;
    connect();
  }
  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (streamAbort) { streamAbort.abort(); streamAbort = null; }
    $("pools").replaceChildren();
    $("login").hidden = false;
    $("lookup").hidden = true;
    $("signout").hidden = true;
    $("login-error").textContent = message || "";
    setStatus("signed out");
  }
  $("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value);
    $("token").value = "";
    $("login-error").textContent = "";
    signedIn();
  });
  $("signout").addEventListener("click", function () { signOut(); });
  $("lookup-form").addEventListener("submit", lookup);
  if (token()) signedIn();
})();
</script>
</body>
</html>
`;
