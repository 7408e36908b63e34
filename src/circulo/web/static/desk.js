// The agent's desk: the live stream of the work panel (reconnecting by itself), the offer's
// countdown, the CRM screen-pop, keyboard shortcuts, and error answers shown, not dropped.
(function () {
  "use strict";
  var work = document.getElementById("work");
  if (!work) { return; }
  var live = document.getElementById("desk-live");
  var message = document.getElementById("desk-message");
  var opened = {};  // tasks whose CRM record was already opened
  window.circuloDesk = {popups: []};

  function say(text, isError) {
    if (!message) { return; }
    message.textContent = text;
    message.className = "desk-message " + (isError ? "error" : "ok");
    message.setAttribute("role", isError ? "alert" : "status");
  }

  function tick() {
    var counts = work.querySelectorAll(".count[data-until]");
    for (var i = 0; i < counts.length; i++) {
      var left = Math.max(0, Math.round((Date.parse(counts[i].dataset.until) - Date.now()) / 1000));
      counts[i].textContent = String(left);
    }
  }

  function autoOpen() {
    var items = work.querySelectorAll("[data-auto-open]");
    for (var i = 0; i < items.length; i++) {
      var task = items[i].dataset.task;
      if (!opened[task]) {
        opened[task] = true;
        var url = items[i].dataset.autoOpen;
        window.circuloDesk.popups.push(url);
        window.open(url, "_blank", "noopener");
      }
    }
  }

  function swapped() {
    tick();
    autoOpen();
    window.circuloDesk.lastSwap = Date.now();
  }

  var deferred = false;  // a live update that arrived while an action was in flight
  function busy() { return work.querySelector(".htmx-request") !== null; }

  function fingerprint(html) {
    var found = /data-fp="([^"]*)"/.exec(html);
    return found ? found[1] : null;
  }

  function replace(html) {
    var shown = work.querySelector("[data-fp]");
    var fp = fingerprint(html);
    if (shown && fp && shown.dataset.fp === fp) { return; }  // nothing changed
    if (busy()) {  // swapping now would drop the action's answer: re-read after it
      deferred = true;
      return;
    }
    // keep what the agent is typing (notes, a chosen code) across a live update
    var kept = {};
    var fields = work.querySelectorAll("textarea[id], select[id], input[type=text][id]");
    for (var i = 0; i < fields.length; i++) { kept[fields[i].id] = fields[i].value; }
    var focused = document.activeElement && work.contains(document.activeElement)
      ? document.activeElement.id : null;
    work.innerHTML = html;
    for (var id in kept) {
      var field = document.getElementById(id);
      if (field && kept[id]) { field.value = kept[id]; }
    }
    if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
    if (window.htmx) { window.htmx.process(work); }
    swapped();
  }

  var source = null;
  function connect() {
    var url = work.dataset.stream;
    if (!url) { return; }
    source = new EventSource(url);
    source.addEventListener("open", function () {
      retry = 1000;
      if (live) { live.textContent = live.dataset.live; live.className = "live ok"; }
    });
    source.addEventListener("work", function (event) {
      window.circuloDesk.lastWork = Date.now();  // the state as the server reads it now
      replace(event.data);
    });
    source.addEventListener("notice", function (event) { say(event.data, true); });
    source.addEventListener("signin", function () {
      source.close();
      window.location.assign("/sign-in");
    });
    source.addEventListener("error", function () {
      if (live) { live.textContent = live.dataset.lost; live.className = "live lost"; }
      if (source.readyState === EventSource.CLOSED) {  // the browser gave up: we do not
        window.setTimeout(recheck, retry);
        retry = Math.min(retry * 2, 30000);
      }
    });
  }

  // The stream was refused (its status is not visible to EventSource): if the session is
  // gone, go to sign in rather than knock every second (each 401 counts toward the
  // address's failed-authentication limit, shared by an office behind one address).
  var retry = 1000;
  function recheck() {
    window.fetch("/desk/work", {credentials: "same-origin"}).then(function (answer) {
      if (answer.status === 401) { window.location.assign("/sign-in"); } else { connect(); }
    }, function () { connect(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    swapped();
    connect();
    window.setInterval(tick, 500);
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      var status = event.detail.xhr.status;
      if (status === 401) { window.location.assign("/sign-in"); return; }
      // a refusal of a desk action carries the work panel and its message: show it (other
      // fragments, such as the customer panel, keep htmx's rule: no swap on an error)
      if (status >= 400 && status < 500 && event.detail.target === work) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target === work) { swapped(); }
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var dialId = document.getElementById("dial-request");
      if (dialId && event.detail.elt && event.detail.elt.contains(dialId)) {
        // the next call is another call: a new id (a double submit reused the old one)
        var bytes = new Uint8Array(16);
        window.crypto.getRandomValues(bytes);
        dialId.value = Array.prototype.map.call(bytes, function (b) {
          return ("0" + b.toString(16)).slice(-2);
        }).join("");
      }
      if (deferred && !busy() && window.htmx) {
        deferred = false;
        window.htmx.ajax("GET", "/desk/work", {target: "#work", swap: "innerHTML"});
      }
    });
  });

  var keys = {a: "accept", r: "reject", t: "end", g: "wrapup"};
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey) { return; }
    var name = keys[event.key.toLowerCase()];
    if (!name) { return; }
    var button = work.querySelector("button[data-key=" + name + "]:not([disabled])");
    if (!button) { return; }
    event.preventDefault();
    if (button.form && button.form.requestSubmit) { button.form.requestSubmit(button); }
    else { button.click(); }
  });
})();
