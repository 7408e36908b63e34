// A transcript line's time button moves the player there and plays (no inline script: CSP).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-seek]");
  var audio = document.getElementById("rec-audio");
  if (!button || !audio) { return; }
  var at = parseFloat(button.getAttribute("data-seek"));
  if (isFinite(at)) {
    audio.currentTime = at;
    audio.play().catch(function () { /* the browser may refuse to play without a gesture */ });
  }
});
