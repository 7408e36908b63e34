// The reports page's charts: each <div class="plot" data-chart="{...}"> becomes a uPlot
// chart. The data comes from the attribute (the CSP allows no inline script); the table
// under each chart carries the same numbers for screen readers and for copying.
(function () {
  "use strict";
  var COLOURS = ["#0b5cad", "#b45309", "#047857"];

  function categories(labels) {
    var xs = [];
    for (var i = 0; i < labels.length; i++) xs.push(i);
    return xs;
  }

  function draw(element) {
    var chart = JSON.parse(element.getAttribute("data-chart"));
    var labels = chart.labels;
    var xs = categories(labels);
    var bars = chart.kind === "bars";
    var series = [{
      label: chart.x_label || "",
      value: function (u, i) { return i == null || labels[i] === undefined ? "--" : labels[i]; }
    }];
    var axes = [{
      splits: function () { return xs; },
      values: function (u, splits) {
        return splits.map(function (i) { return labels[i] === undefined ? "" : labels[i]; });
      },
      rotate: labels.length > 8 ? -45 : 0,
      size: labels.length > 8 ? 70 : 40
    }, {}];
    var data = [xs];
    chart.series.forEach(function (s, index) {
      var percent = s.unit === "%";
      series.push({
        label: s.label + (s.unit ? " (" + s.unit + ")" : ""),
        stroke: COLOURS[index % COLOURS.length],
        fill: bars ? COLOURS[index % COLOURS.length] + "cc" : undefined,
        width: 2,
        scale: percent ? "%" : "y",
        spanGaps: !bars,
        paths: bars ? uPlot.paths.bars({size: [0.6, 80]}) : undefined,
        points: {show: !bars}
      });
      if (percent) axes.push({scale: "%", side: 1, grid: {show: false}});
      data.push(s.values);
    });
    var width = Math.max(280, element.clientWidth || 600);
    var options = {
      width: width,
      height: 240,
      legend: {show: chart.series.length > 1},
      cursor: {drag: {x: false, y: false}},
      scales: {
        x: {time: false, range: function (u, min, max) { return [min - 0.5, max + 0.5]; }},
        y: {range: function (u, min, max) { return [Math.min(0, min), Math.max(1, max)]; }},
        "%": {range: [0, 100]}
      },
      series: series,
      axes: axes
    };
    element.textContent = "";
    new uPlot(options, data, element);
    element.setAttribute("data-drawn", "true");
  }

  function start() {
    var plots = document.querySelectorAll(".plot[data-chart]");
    for (var i = 0; i < plots.length; i++) draw(plots[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
