/* Círculo CRM widget (docs/widget.md).
 *
 *   <script src="https://circulo.example/widget.js" data-token-url="/circulo-token" defer></script>
 *
 * Plain JavaScript, no framework, no inline code or style: it works under a CRM's strict CSP
 * that allows Círculo's origin in script-src, style-src and connect-src. It reads no cookie
 * of Círculo's and sends none (credentials: "omit"): only the short-lived widget token, in the
 * Authorization header.
 *
 * Configuration, from the script tag's data-* attributes or a global object
 * window.CirculoWidget = {token, tokenUrl, selector, lang, crmRecord, crm, poll}:
 *   data-token       a widget token the page was rendered with, or
 *   data-token-url   a URL of the CRM's own backend answering {"token": "cw_…"} (same origin,
 *                    the CRM's session): fetched at start and again before the token expires
 *   data-selector    where to look for phone numbers (default: the whole body)
 *   data-lang        es | en (default: the token's user's language)
 *   data-crm-record  the record the page shows (or a data-crm-record attribute on an element
 *                    around the number, which wins)
 *   data-crm         the connector name of this CRM, when Círculo has several
 *   data-poll        milliseconds between looks at the agent's calls (default 1500)
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.fetch) { return; }
  var BASE = new URL(script.src).origin;
  var global = window.CirculoWidget || {};
  var data = script.dataset;
  var config = {
    token: data.token || global.token || null,
    tokenUrl: data.tokenUrl || global.tokenUrl || null,
    selector: data.selector || global.selector || "body",
    lang: data.lang || global.lang || "",
    crmRecord: data.crmRecord || global.crmRecord || null,
    crm: data.crm || global.crm || null,
    poll: Number(data.poll || global.poll || 1500)
  };
  var PHONE = /(?:\+|\b00)?\d[\d\s().\-]{5,20}\d/g;
  var SKIP = { SCRIPT: 1, STYLE: 1, TEXTAREA: 1, INPUT: 1, SELECT: 1, BUTTON: 1, A: 1,
               OPTION: 1, NOSCRIPT: 1, CODE: 1, PRE: 1 };
  var state = { token: config.token, texts: {}, codes: [], calls: [], drawn: "",
                message: "", alert: false, expired: false, busy: false, timer: null,
                renewal: null };
  var ui = {};

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; }
      else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function t(key) { return state.texts[key] || key; }

  function digits(text) { return text.replace(/\D/g, "").length; }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + String(Math.random()).slice(2, 12);
  }

  // -- talking to Círculo --------------------------------------------------------------------

  function fetchToken() {
    if (!config.tokenUrl) { return Promise.resolve(state.token); }
    return fetch(config.tokenUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("token " + answer.status); }
        return answer.json();
      })
      .then(function (body) {
        state.token = body.token;
        var seconds = Number(body.expires_in || 900);
        // a fresh token well before this one runs out (one timer, however often renewed;
        // a renewal that fails is retried by the next 401)
        window.clearTimeout(state.renewal);
        state.renewal = window.setTimeout(function () {
          fetchToken().catch(function () { return null; });
        }, Math.max(30, seconds * 0.8) * 1000);
        return state.token;
      });
  }

  function call(method, path, body, retried) {
    var init = { method: method, mode: "cors", credentials: "omit", cache: "no-store",
                 headers: { "Authorization": "Bearer " + state.token } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(BASE + path, init).then(function (answer) {
      if (answer.status === 401 && config.tokenUrl && !retried) {
        // a new token from the CRM's backend; if it gives none, this one is dead for good
        return fetchToken().then(function () { return call(method, path, body, true); },
                                 function () { state.expired = true; throw new Error("expired"); });
      }
      if (answer.status === 401) {
        state.expired = true;
        throw new Error("expired");
      }
      return answer.json().then(function (json) {
        if (!answer.ok) {
          var failure = new Error(json.detail || String(answer.status));
          failure.status = answer.status;
          throw failure;
        }
        return json;
      });
    });
  }

  // -- phone numbers become buttons -----------------------------------------------------------

  function recordOf(node) {
    var holder = node.closest ? node.closest("[data-crm-record]") : null;
    return holder ? holder.getAttribute("data-crm-record") : config.crmRecord;
  }

  function dialButton(number, record) {
    var button = el("button", { type: "button", "class": "circulo-dial",
                                "aria-label": t("call") + " " + number, text: number });
    button.addEventListener("click", function () { dial(button, number, record); });
    return button;
  }

  function linkNumbers(root) {
    Array.prototype.forEach.call(root.querySelectorAll("a[href^='tel:']"), function (link) {
      if (link.getAttribute("data-circulo") || link.closest(".circulo-widget")) { return; }
      var shown = link.textContent.trim();
      // the number as the page shows it, when the link's text is one; else its href's
      var number = shown;
      if (digits(shown) < 6) {
        try { number = decodeURIComponent(link.getAttribute("href").slice(4)).trim(); }
        catch (malformed) { return; }  // a broken tel: link stays as it is
      }
      link.setAttribute("data-circulo", "dial");
      link.replaceWith(dialButton(number, recordOf(link)));
    });
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        for (var up = node.parentNode; up && up !== root.parentNode; up = up.parentNode) {
          if (SKIP[up.nodeName] || (up.classList && up.classList.contains("circulo-widget"))
              || (up.isContentEditable)) { return NodeFilter.FILTER_REJECT; }
        }
        PHONE.lastIndex = 0;
        return PHONE.test(node.nodeValue) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP;
      }
    });
    var found = [];
    while (walker.nextNode()) { found.push(walker.currentNode); }
    found.forEach(function (node) {
      var text = node.nodeValue, last = 0, parts = [], match;
      PHONE.lastIndex = 0;
      while ((match = PHONE.exec(text)) !== null) {
        var count = digits(match[0]);
        if (count < 9 || count > 15) { continue; }  // not dates, amounts or ids
        parts.push(document.createTextNode(text.slice(last, match.index)));
        parts.push(dialButton(match[0].trim(), recordOf(node.parentNode)));
        last = match.index + match[0].length;
      }
      if (!parts.length) { return; }
      parts.push(document.createTextNode(text.slice(last)));
      var span = el("span", { "class": "circulo-numbers" }, parts);
      node.parentNode.replaceChild(span, node);
    });
  }

  // -- the banner -----------------------------------------------------------------------------

  function say(message, alert) {
    state.message = message;
    state.alert = !!alert;
    draw(true);
  }

  function failed(error) {
    if (state.expired) { say(t("expired"), true); return; }
    if (error && error.status === 409) { say(t("withdrawn") + " " + error.message, true); }
    else { say(t("failed") + (error && error.message ? ": " + error.message : ""), true); }
  }

  function dial(button, number, record) {
    if (button.disabled) { return; }
    button.disabled = true;  // a double click dials once (and the server dedupes the id)
    button.setAttribute("aria-busy", "true");
    say(t("dialing") + " " + number);
    var body = { phone: number, request_id: newId() };
    if (record) { body.crm_record = record; }
    if (config.crm) { body.crm = config.crm; }
    call("POST", "/v1/widget/dial", body).then(function () {
      state.message = "";
      return refresh();
    }).catch(failed).then(function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  }

  function act(task, action, body) {
    if (state.busy) { return; }
    state.busy = true;
    call("POST", "/v1/widget/calls/" + encodeURIComponent(task.id) + "/" + action, body)
      .then(function (answer) {
        state.message = action === "wrap-up" ? t("saved") : "";
        state.alert = false;
        return answer;
      })
      .catch(failed)
      .then(function () { state.busy = false; return refresh(); });
  }

  function actionButton(label, task, action, primary) {
    var button = el("button", { type: "button", text: label,
                                "class": primary ? "circulo-primary" : "circulo-secondary" });
    button.addEventListener("click", function () { button.disabled = true; act(task, action); });
    return button;
  }

  function wrapUpForm(task) {
    var form = el("form", { "class": "circulo-wrap" });
    var codeId = "circulo-code-" + task.id, notesId = "circulo-notes-" + task.id;
    var select = el("select", { id: codeId, name: "disposition", required: "required" });
    (task.codes || state.codes).forEach(function (code) {
      select.appendChild(el("option", { value: code.code, text: code.label }));
    });
    var notes = el("textarea", { id: notesId, name: "notes", rows: "2", maxlength: "4000" });
    var save = el("button", { type: "submit", "class": "circulo-primary", text: t("save") });
    form.appendChild(el("label", { "for": codeId, text: t("code") }));
    form.appendChild(select);
    form.appendChild(el("label", { "for": notesId, text: t("notes") }));
    form.appendChild(notes);
    form.appendChild(save);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      save.disabled = true;  // a wrap-up submitted twice is saved once
      var body = { disposition: select.value };
      if (notes.value.trim()) { body.notes = notes.value.trim(); }
      var record = task.crm_record || config.crmRecord;
      if (record) { body.crm_record = record; }
      if (config.crm) { body.crm = config.crm; }
      act(task, "wrap-up", body);
    });
    return form;
  }

  function callCard(task) {
    var title = task.state === "reserved" ? t("incoming")
      : task.state === "wrapping" ? t("wrap_up")
      : task.direction === "outbound" ? t("outbound") : t("ongoing");
    var who = task.name ? task.name + " · " + (task.phone || "") : (task.phone || t("unknown_caller"));
    var card = el("article", { "class": "circulo-call circulo-" + task.state,
                               "data-task": task.id }, [
      el("h3", { text: title }),
      el("p", { "class": "circulo-who", text: who })
    ]);
    if (task.state === "reserved") {
      card.appendChild(el("p", { text: t("queue") + ": " + task.queue }));
    }
    var record = task.crm_record || (task.state === "wrapping" ? config.crmRecord : null);
    if (record) {
      card.appendChild(el("p", { "class": "circulo-record", text: t("record") + ": " + record }));
    }
    var actions = el("div", { "class": "circulo-actions" });
    if (task.state === "reserved") {
      actions.appendChild(actionButton(t("accept"), task, "accept", true));
      actions.appendChild(actionButton(t("reject"), task, "reject", false));
    } else if (task.state === "assigned") {
      actions.appendChild(actionButton(t("end"), task, "end", true));
    } else if (task.state === "wrapping") {
      card.appendChild(wrapUpForm(task));
    }
    if (actions.childNodes.length) { card.appendChild(actions); }
    return card;
  }

  function draw(force) {
    if (!ui.region) { return; }
    var signature = JSON.stringify(state.calls.map(function (c) { return [c.id, c.state]; }));
    if (!force && signature === state.drawn) { return; }
    if (signature !== state.drawn) {
      var arrived = state.calls.some(function (c) { return state.drawn.indexOf(c.id) < 0; });
      if (arrived && !state.alert) { state.message = ""; }  // "saved" was about the last one
      state.drawn = signature;
      while (ui.calls.firstChild) { ui.calls.removeChild(ui.calls.firstChild); }
      state.calls.forEach(function (task) { ui.calls.appendChild(callCard(task)); });
    }
    ui.status.textContent = state.calls.length ? "" : t("ready");
    ui.message.textContent = state.message;
    ui.message.className = state.alert ? "circulo-message circulo-alert" : "circulo-message";
    ui.message.setAttribute("role", state.alert ? "alert" : "status");
  }

  function refresh() {
    if (state.expired) { return Promise.resolve(); }
    return call("GET", "/v1/widget/calls").then(function (body) {
      if (ui.trouble) { ui.trouble = false; say(""); }  // back: the warning goes
      state.calls = body.calls;
      draw(false);
    }, function (error) {
      if (state.expired) { say(t("expired"), true); return; }
      if (ui.trouble) { return; }
      ui.trouble = true;
      // Círculo answered with a refusal (say why), or did not answer at all (retry)
      if (error && error.status) { failed(error); } else { say(t("offline"), true); }
    });
  }

  function loop() {
    refresh().then(function () {
      if (!state.expired) { state.timer = window.setTimeout(loop, config.poll); }
    });
  }

  function mount(me) {
    state.texts = me.texts;
    state.codes = me.codes;
    var stylesheet = el("link", { rel: "stylesheet", href: BASE + "/widget.css",
                                  crossorigin: "anonymous" });
    document.head.appendChild(stylesheet);
    ui.region = el("section", { "class": "circulo-widget", "aria-label": t("region"),
                                lang: me.language });
    ui.head = el("h2", { "class": "circulo-brand", text: "Círculo · " + me.user.name });
    ui.status = el("p", { "class": "circulo-status", role: "status" });
    ui.message = el("p", { "class": "circulo-message", role: "status" });
    // an incoming call is announced, never given the focus: the user may be typing
    ui.calls = el("div", { "class": "circulo-calls", "aria-live": "polite" });
    ui.region.appendChild(ui.head);
    ui.region.appendChild(ui.status);
    ui.region.appendChild(ui.message);
    ui.region.appendChild(ui.calls);
    document.body.appendChild(ui.region);
    document.querySelectorAll(config.selector).forEach(linkNumbers);
    draw(true);
    loop();
  }

  function start() {
    fetchToken()
      .then(function () {
        if (!state.token) { throw new Error("no widget token: set data-token or data-token-url"); }
        return call("GET", "/v1/widget/me" + (config.lang ? "?lang=" + encodeURIComponent(config.lang) : ""));
      })
      .then(mount)
      .catch(function (error) {
        // nothing to show without texts: say it where the CRM's developers look
        if (window.console) { window.console.warn("Círculo widget:", error.message); }
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
