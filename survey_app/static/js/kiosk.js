// Kiosk timers. The page says how long before it resets, and a button gives ten times as long, as often as pressed
// (WCAG 2.2.1: timing adjustable) but never for ever: a kiosk page left waiting would be the next person's.
// Without JavaScript a <noscript> meta refresh resets the page.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-reset-url");
  var seconds = parseInt(body.getAttribute("data-reset-seconds"), 10);
  if (!url || !seconds) { return; }
  var reset = function () { window.location.assign(url); };
  var timer = window.setTimeout(reset, seconds * 1000);
  var notice = document.getElementById("kiosk-timer");
  var text = document.getElementById("kiosk-timer-text");
  var more = document.getElementById("kiosk-timer-more");
  if (notice) {
    notice.hidden = false;
    // The page's own words for a browser without the timer would say it twice.
    Array.prototype.forEach.call(document.querySelectorAll("[data-without-timer]"), function (hint) {
      hint.hidden = true;
    });
  }
  if (more) {
    more.addEventListener("click", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(reset, parseInt(more.getAttribute("data-seconds"), 10) * 1000);
      text.textContent = more.getAttribute("data-extended");
      if (more.hasAttribute("data-once")) {
        // The reasons page: once, within the window its answer is accepted in (kiosk/routes.py).
        more.hidden = true;
        text.focus();
      }
    });
  }
}());
