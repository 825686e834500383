// Kiosk timers. The page says how long before it resets, and a button stops the timer
// (WCAG 2.2.1: timing adjustable). Without JavaScript a <noscript> meta refresh does the same.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-reset-url");
  var seconds = parseInt(body.getAttribute("data-reset-seconds"), 10);
  if (!url || !seconds) { return; }
  var timer = window.setTimeout(function () { window.location.assign(url); }, seconds * 1000);
  var notice = document.getElementById("kiosk-timer");
  var stop = document.getElementById("kiosk-timer-stop");
  if (notice) {
    notice.hidden = false;
    // The page's own words for a browser without the timer would say it twice.
    Array.prototype.forEach.call(document.querySelectorAll("[data-without-timer]"), function (hint) {
      hint.hidden = true;
    });
  }
  if (stop) {
    stop.addEventListener("click", function () {
      window.clearTimeout(timer);
      notice.textContent = stop.getAttribute("data-stopped");
    });
  }
}());
