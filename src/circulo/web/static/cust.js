// The customer panel (web/customer.py). htmx leaves 4xx answers unshown by default: the
// panel's own fragments (marked X-Circulo-Fragment) carry a message for the agent, so show
// them (a customer that does not exist, a suggestion already taken, a forged request).
// A 401 carries HX-Redirect to /sign-in, which htmx follows by itself.
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("X-Circulo-Fragment")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
// A note sent: the fresh form comes back; put the cursor back in it.
document.addEventListener("htmx:afterSwap", function (event) {
  var cfg = event.detail.requestConfig;
  if (cfg && cfg.verb === "post" && /\/notes$/.test(cfg.path)) {
    var area = document.getElementById("cust-note-text");
    if (area) { area.focus(); }
  }
});
