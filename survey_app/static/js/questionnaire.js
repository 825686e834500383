// Progressive enhancement: follow-up questions appear in place when their condition holds, and the history entry of
// a page sent back with errors is a plain one (below).
// Without JavaScript every follow-up stays visible with a hint saying when to answer it.
(function () {
  "use strict";
  var form = document.querySelector("form.cs-form");
  if (!form) { return; }
  // Sent back with errors, this page answers a POST: Back to it, once the answers are sent, would ask to send the
  // form again. Made the questionnaire's plain address as the form leaves, Back reads "your answers have arrived"
  // instead (and a reload before then still keeps the answers given).
  if (document.getElementById("riepilogo-errori") && window.history.replaceState) {
    form.addEventListener("submit", function () {
      window.history.replaceState(null, "", window.location.href);
    });
  }
  var followUps = Array.prototype.slice.call(form.querySelectorAll("[data-show-if]"));
  if (!followUps.length) { return; }

  function valuesOf(code) {
    var inputs = form.querySelectorAll('[name="' + code + '"]');
    var values = [];
    Array.prototype.forEach.call(inputs, function (input) {
      if ((input.type === "radio" || input.type === "checkbox") ? input.checked : input.value) {
        values.push(input.value);
      }
    });
    return values;
  }

  function holds(rule) {
    var values = valuesOf(rule.domanda);
    if (!values.length) { return false; }
    if (rule.valori) {
      return values.some(function (v) { return rule.valori.map(String).indexOf(v) !== -1; });
    }
    var number = parseFloat(values[0]);
    if (isNaN(number)) { return false; }
    return rule.minore_di !== undefined ? number < rule.minore_di : number >= rule.almeno;
  }

  function update() {
    followUps.forEach(function (block) {
      var shown = holds(JSON.parse(block.getAttribute("data-show-if")));
      block.hidden = !shown;
      Array.prototype.forEach.call(block.querySelectorAll("input, textarea"), function (el) {
        el.disabled = !shown;
      });
    });
  }

  followUps.forEach(function (block) {
    var hint = block.querySelector(".followup-hint");
    if (hint) { hint.hidden = true; }
    block.setAttribute("aria-live", "polite");
  });
  form.addEventListener("change", update);
  update();
}());
