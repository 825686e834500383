// Plotly's drawings read to a screen reader as their axis labels run together ("img: 0 20 40 60 80 100 …"), and an
// unnamed second picture. Every chart sits in a page with a caption and a table of its values, so the drawings are
// hidden from assistive technology; the toolbar's download button, a named button, stays.
(function () {
  "use strict";
  function hide(chart) {
    Array.prototype.forEach.call(chart.querySelectorAll("svg.main-svg"), function (svg) {
      svg.setAttribute("aria-hidden", "true");
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".plotly-graph-div"), function (chart) {
    hide(chart);
    if (typeof chart.on === "function") {
      chart.on("plotly_afterplot", function () { hide(chart); });
    }
  });
}());
