/* The fake CRM's own script: lists the activities its backend received from Círculo. */
(function () {
  "use strict";
  function load() {
    fetch("/api/activities", { cache: "no-store" }).then(function (answer) {
      return answer.json();
    }).then(function (activities) {
      var list = document.getElementById("activities");
      if (!list || list.childNodes.length === activities.length) { return; }
      while (list.firstChild) { list.removeChild(list.firstChild); }
      activities.forEach(function (activity) {
        var item = document.createElement("li");
        item.textContent = activity.contact + " · " + activity.outcome + " · " + (activity.notes || "");
        list.appendChild(item);
      });
    }).catch(function () { return null; });
  }
  document.addEventListener("DOMContentLoaded", function () { load(); setInterval(load, 1000); });
}());
