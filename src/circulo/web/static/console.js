/* The supervisor's live board: one EventSource on /console/stream; each "board" message is a
   batch of the rows that changed (keyed q:, c:, s:, a:) and, when they changed, the alerts.
   Rows are patched in place, so a board of 500 agents costs only what changed. */
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) { return; }
  var labels = JSON.parse(board.dataset.labels || "{}");
  var csrf = board.dataset.csrf || "";
  var live = document.getElementById("live");
  var connection = document.getElementById("connection");
  var bodies = {queue: "rows-queue", "class": "rows-class", site: "rows-site", agent: "rows-agent"};
  var offset = 0;  // server clock minus ours, for the time in state
  var applied = 0;
  // what a benchmark or a curious supervisor can read: updates applied, ms to apply each
  window.circuloBoard = {applied: function () { return applied; }, times: []};

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    var m = Math.floor(seconds / 60), s = seconds % 60;
    if (m >= 60) { return Math.floor(m / 60) + " h " + (m % 60) + " min"; }
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function percent(v) { return v === null || v === undefined ? "—" : v + " %"; }
  function text(kind, name, row) {
    var v = row[name];
    switch (name) {
      case "name":
        return kind === "class" ? (labels["console.class." + v] || v) : v;
      case "service_level":
        return v === null ? "—" : v + " %" + (row.below_target ? " (" + labels["console.below_target"] + ")" : "");
      case "target": case "abandonment_rate": case "occupancy":
        return percent(v);
      case "longest_wait": case "average_wait": case "vip_longest":
        return duration(v || 0);
      case "presence": return labels["console.presence." + v] || v;
      case "state": return labels["console.state." + v] || v;
      case "state_since": return duration((Date.now() + offset - Date.parse(v)) / 1000);
      case "queues": return (v || []).join(", ");
      default: return v === null || v === undefined ? "—" : String(v);
    }
  }
  function cellsOf(tr, cols) {
    while (tr.children.length < cols.length) {
      var cell = document.createElement(tr.children.length === 0 ? "th" : "td");
      if (tr.children.length === 0) { cell.scope = "row"; }
      cell.dataset.col = cols[tr.children.length];
      tr.appendChild(cell);
    }
    return tr.children;
  }
  function put(key, row) {
    var body = document.getElementById(bodies[row.kind]);
    if (!body) { return; }
    var cols = body.dataset.cols.split(" ");
    var tr = document.getElementById("row-" + key);
    if (!tr) {
      tr = document.createElement("tr");
      tr.id = "row-" + key;
      body.appendChild(tr);
    }
    tr.dataset.since = row.state_since || "";
    tr.classList.toggle("below", !!row.below_target);
    tr.classList.toggle("vip-waiting", row.kind === "queue" && row.vip_waiting > 0);
    if (row.kind === "agent") { tr.dataset.state = row.state; tr.dataset.presence = row.presence; }
    var cells = cellsOf(tr, cols);
    for (var i = 0; i < cols.length; i++) {
      var value = text(row.kind, cols[i], row);
      if (cells[i].textContent !== value) { cells[i].textContent = value; }
    }
  }
  function alertsOf(list) {
    var ul = document.getElementById("alerts");
    ul.replaceChildren();
    if (!list.length) {
      var quiet = document.createElement("li");
      quiet.className = "quiet";
      quiet.textContent = labels["console.no_alerts"];
      ul.appendChild(quiet);
      return;
    }
    list.forEach(function (alert) {
      var li = document.createElement("li");
      li.className = "alert alert-" + alert.kind;
      li.dataset.key = alert.key;
      var p = document.createElement("span");
      p.textContent = alert.text;
      var form = document.createElement("form");
      form.method = "post";
      form.action = "/console/alerts/ack";
      [["csrf_token", csrf], ["key", alert.key]].forEach(function (pair) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = pair[0]; input.value = pair[1];
        form.appendChild(input);
      });
      var button = document.createElement("button");
      button.type = "submit";
      button.textContent = labels["console.ack"];
      button.setAttribute("aria-label", labels["console.ack"] + ": " + alert.text);
      form.appendChild(button);
      li.appendChild(p);
      li.appendChild(form);
      ul.appendChild(li);
    });
  }
  function apply(message) {
    var started = performance.now();
    offset = message.now_ms - Date.now();
    Object.keys(message.rows).forEach(function (key) { put(key, message.rows[key]); });
    message.removed.forEach(function (key) {
      var tr = document.getElementById("row-" + key);
      if (tr) { tr.remove(); }
    });
    if (message.alerts) { alertsOf(message.alerts); }
    live.textContent = labels["console.as_of"] + " " + message.as_of;
    if (!connection.hidden) { connection.hidden = true; connection.textContent = ""; }
    applied += 1;
    var times = window.circuloBoard.times;
    times.push(performance.now() - started);
    if (times.length > 1000) { times.shift(); }
  }
  function tick() {  // the agents' time in state moves without any message
    var cells = document.querySelectorAll("#rows-agent td[data-col='state_since']");
    for (var i = 0; i < cells.length; i++) {
      var since = cells[i].parentNode.dataset.since;
      if (since) { cells[i].textContent = duration((Date.now() + offset - Date.parse(since)) / 1000); }
    }
  }
  var full = /[?&]full=1/.test(window.location.search) ? "?full=1" : "";
  var source = new EventSource(board.dataset.stream + full);
  source.addEventListener("board", function (event) { apply(JSON.parse(event.data)); });
  source.addEventListener("signed-out", function (event) {
    source.close();
    window.location.assign(event.data || "/sign-in");
  });
  source.onerror = function () {
    if (source.readyState !== EventSource.CLOSED) {
      connection.textContent = labels["console.offline"];
      connection.hidden = false;
    }
    else { window.location.assign("/sign-in"); }  // refused (401): the session ended
  };
  setInterval(tick, 1000);
})();
