// jwt-guard demo page: every button calls this server (same origin) and shows what came back.
// Nothing is loaded from anywhere else; the server's Content-Security-Policy enforces it.
"use strict";

(function () {
  const demo = {results: {}, pending: Promise.resolve(), eventsSeq: 0};
  window.jwtGuardDemo = demo;

  const $ = (id) => document.getElementById(id);
  const CSRF_COOKIE = "csrf_token";

  function csrf() {
    const match = document.cookie.match(new RegExp("(?:^|; )" + CSRF_COOKIE + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  function visibleCookies() {
    const names = document.cookie ? document.cookie.split("; ").map((c) => c.split("=")[0]) : [];
    $("visible-cookies").textContent = names.length ? names.sort().join(", ") : "none";
    return names.sort();
  }

  async function call(method, url, body) {
    const init = {method: method, headers: {}, credentials: "same-origin", cache: "no-store"};
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRF-Token"] = csrf();
      init.body = JSON.stringify(body || {});
    }
    const response = await fetch(url, init);
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch (err) {
      parsed = text;
    }
    return {
      request: method + " " + url,
      status: response.status,
      www_authenticate: response.headers.get("WWW-Authenticate"),
      body: parsed,
    };
  }

  // -- the server log

  function eventDetails(fields) {
    return Object.keys(fields).map((k) => k + "=" + fields[k]).join(" ");
  }

  function addEventRow(entry) {
    const row = document.createElement("tr");
    row.className = "level-" + String(entry.level).toLowerCase();
    for (const value of [entry.seq, entry.event, entry.level, entry.reason || "", eventDetails(entry.fields)]) {
      const cell = document.createElement("td");
      cell.textContent = String(value);
      row.appendChild(cell);
    }
    const body = $("events");
    body.insertBefore(row, body.firstChild);
  }

  async function newEvents() {
    const answer = await call("GET", "/demo/events?after=" + demo.eventsSeq);
    const found = (answer.body && answer.body.events) || [];
    for (const entry of found) {
      addEventRow(entry);
      demo.eventsSeq = Math.max(demo.eventsSeq, entry.seq);
    }
    return found;
  }

  // -- rendering a result

  function field(list, name, value, cls) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value === null || value === undefined || value === "" ? "(none)" : String(value);
    if (cls) dd.className = cls;
    list.appendChild(dt);
    list.appendChild(dd);
  }

  function block(title, value, open) {
    const details = document.createElement("details");
    details.open = Boolean(open);
    const summary = document.createElement("summary");
    summary.textContent = title;
    const pre = document.createElement("pre");
    pre.textContent = JSON.stringify(value, null, 2);
    details.appendChild(summary);
    details.appendChild(pre);
    return details;
  }

  function card(title, result, options) {
    const refused = result.status >= 400;
    const box = document.createElement("div");
    let verdict = refused ? "refused" : "ok";
    if (options.attack) verdict = refused ? "blocked" : "accepted";
    box.className = "card " + verdict;
    box.dataset.status = String(result.status);
    const heading = document.createElement("h3");
    heading.textContent = title + " ";
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = options.attack
      ? (refused ? "refused " + result.status : "ACCEPTED " + result.status)
      : String(result.status);
    heading.appendChild(badge);
    box.appendChild(heading);
    if (options.tries) {
      const p = document.createElement("p");
      p.className = "tries";
      p.textContent = options.tries;
      box.appendChild(p);
    }
    const list = document.createElement("dl");
    field(list, "Request", result.request);
    field(list, "Status", result.status);
    field(list, "WWW-Authenticate", result.www_authenticate, "mono");
    if (options.header) field(list, "Forged header", JSON.stringify(options.header), "mono");
    if (refused || result.reason) {
      field(list, "Reason (server side)", result.reason || "(no event: no token reached the verifier)", "reason");
    }
    box.appendChild(list);
    if (result.warning) {
      const warn = document.createElement("p");
      warn.className = "warning";
      warn.textContent = result.warning;
      box.appendChild(warn);
    }
    for (const [name, value, open] of options.blocks || []) {
      if (value !== undefined && value !== null) box.appendChild(block(name, value, open));
    }
    return box;
  }

  function show(key, title, result, options) {
    demo.results[key] = result;
    const box = card(title, result, options || {});
    box.id = "card-" + key.replace(":", "-");
    const target = $("result-" + key);
    if (target) {
      target.replaceChildren(box);
    } else {
      const old = $(box.id);
      if (old) old.replaceWith(box);
      else $("attack-results").appendChild(box);
    }
  }

  // Our own requests: the reason, if any, is the one the server just logged.
  async function own(key, title, method, url, body, openBody) {
    const result = await call(method, url, body);
    const events = await newEvents();
    const refusal = events.find((e) => e.reason);
    result.reason = result.status >= 400 && refusal ? refusal.reason : null;
    result.events = events;
    show(key, title, result, {blocks: [["Response body", result.body, openBody && result.status < 400]]});
    return result;
  }

  // -- actions

  async function login() {
    const body = {username: $("username").value, password: $("password").value};
    const result = await own("login", "Log in", "POST", "/auth/token", body);
    result.visible_cookies = visibleCookies();
    if (result.status === 200 && !csrf()) {
      result.warning = "Logged in, but this browser dropped the Secure cookies over plain HTTP. " +
        "Open the demo on 127.0.0.1 or localhost in Chromium or Firefox.";
      show("login", "Log in", result, {blocks: [["Response body", result.body]]});
    }
    return result;
  }

  async function loadKeys() {
    const discovery = await call("GET", "/.well-known/openid-configuration");
    const jwks = await call("GET", "/.well-known/jwks.json");
    const stored = await call("GET", "/demo/keys");
    const states = {};
    for (const key of (stored.body && stored.body.keys) || []) states[key.kid] = key.state;
    const rows = $("jwks-keys");
    rows.replaceChildren();
    const kids = [];
    for (const key of (jwks.body && jwks.body.keys) || []) {
      kids.push(key.kid);
      const row = document.createElement("tr");
      if (states[key.kid] === "active") row.className = "active";
      for (const value of [key.kid, key.alg, states[key.kid] || "?"]) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.appendChild(cell);
      }
      rows.appendChild(row);
    }
    const result = {
      kids: kids,
      active: stored.body ? stored.body.active : null,
      discovery: discovery.body,
    };
    demo.results.jwks = result;
    return result;
  }

  async function rotate() {
    const result = await own("rotate", "Rotate the signing key", "POST", "/demo/rotate");
    result.jwks = await loadKeys();
    return result;
  }

  async function attack(kind, title) {
    const answer = await call("POST", "/demo/attack/" + encodeURIComponent(kind));
    await newEvents();
    const report = answer.body || {};
    if (answer.status !== 200) {
      show("attack:" + kind, title, answer, {attack: true});
      return answer;
    }
    const result = {
      request: report.request,
      status: report.status,
      www_authenticate: report.www_authenticate,
      reason: report.reason,
      events: report.events,
      body: report.body,
    };
    show("attack:" + kind, report.title, result, {
      attack: true,
      tries: "Tries " + report.tries + ".",
      header: report.decoded && report.decoded.header,
      blocks: [["Forged token (decoded, unverified)", report.decoded], ["Response body", report.body]],
    });
    return result;
  }

  function stepsTable(steps) {
    const table = document.createElement("table");
    table.className = "steps";
    const head = document.createElement("tr");
    for (const name of ["what happened", "request", "status", "reason (server side)"]) {
      const th = document.createElement("th");
      th.textContent = name;
      head.appendChild(th);
    }
    table.appendChild(head);
    for (const step of steps) {
      const row = document.createElement("tr");
      for (const value of [step.step, step.request, step.status, step.reason || ""]) {
        const cell = document.createElement("td");
        cell.textContent = String(value);
        row.appendChild(cell);
      }
      table.appendChild(row);
    }
    return table;
  }

  async function deviceCall() {
    const answer = await call("POST", "/demo/device/call");
    await newEvents();
    const result = answer.status === 200 ? answer.body : answer;
    show("deviceCall", "Second device: GET /api/me", result, {blocks: [["Response body", result.body]]});
    return result;
  }

  async function replay() {
    const answer = await call("POST", "/auth/refresh/demo-replay");
    await newEvents();
    visibleCookies();
    const report = answer.body || {};
    if (answer.status !== 200) {
      show("replay", "Replayed refresh token", answer, {attack: true});
      return answer;
    }
    const result = {
      request: "POST /auth/refresh (a refresh token already spent)",
      status: report.status,
      www_authenticate: report.www_authenticate,
      reason: report.reason,
      events: report.events,
      steps: report.steps,
    };
    show("replay", report.title, result, {
      attack: true,
      tries: "Tries " + report.tries + ". Reuse revokes the whole session: log in again.",
    });
    $("card-replay").appendChild(stepsTable(report.steps));
    return result;
  }

  const actions = {
    login: login,
    me: () => own("me", "GET /api/me: the claims the API saw", "GET", "/api/me", null, true),
    orders: () => own("orders", "GET /api/orders (needs orders:read)", "GET", "/api/orders"),
    admin: () => own("admin", "GET /api/admin (needs admin)", "GET", "/api/admin"),
    refresh: async () => {
      const result = await own("refresh", "Refresh", "POST", "/auth/refresh");
      visibleCookies();
      return result;
    },
    logout: async () => {
      const result = await own("logout", "Log out", "POST", "/auth/refresh/logout");
      visibleCookies();
      return result;
    },
    everywhere: async () => {
      const result = await own("everywhere", "Log out everywhere", "POST", "/auth/logout-everywhere");
      visibleCookies();
      return result;
    },
    deviceLogin: () => own("deviceLogin", "Second device signed in", "POST", "/demo/device/login", null, true),
    deviceCall: deviceCall,
    rotate: rotate,
    jwks: loadKeys,
    attack: attack,
    replay: replay,
  };

  function run(name, button) {
    const action = actions[name];
    demo.pending = demo.pending.then(async () => {
      try {
        return await action(button && button.dataset.kind, button && button.textContent.trim());
      } catch (err) {
        const failed = {request: name, status: 0, body: String(err)};
        show(name, name + " failed", failed, {});
        return failed;
      }
    });
    return demo.pending;
  }
  demo.run = run;

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    // The login button too: no form submission, the action runs at once.
    event.preventDefault();
    run(button.dataset.action, button);
  });
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run("login");
  });

  async function start() {
    const info = await call("GET", "/demo/info");
    if (info.body) {
      $("issuer").textContent = info.body.issuer;
      $("audience").textContent = info.body.audience;
      $("data-dir").textContent = info.body.data_dir;
      $("username").value = info.body.username;
      demo.eventsSeq = info.body.events_seq;
    }
    visibleCookies();
    await loadKeys();
  }
  demo.pending = start();
})();
