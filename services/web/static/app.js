// Small enhancements; every page works without them.
(function () {
  "use strict";
  // An error summary takes the focus, so a screen reader reads it and the keyboard is there.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
  // A form that has been sent cannot be sent again while the page waits for its answer
  // (the server also takes a second post of the same form only once).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent === "true") { event.preventDefault(); return; }
    form.dataset.sent = "true";
    var buttons = form.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) { buttons[i].setAttribute("aria-disabled", "true"); }
  });
  // Print buttons print the page they are on.
  var printers = document.querySelectorAll("[data-print]");
  for (var j = 0; j < printers.length; j++) {
    printers[j].addEventListener("click", function (event) { event.preventDefault(); window.print(); });
  }
  // A confirmation asked for by the form itself (data-confirm="question").
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest("[data-confirm]");
    if (trigger && !window.confirm(trigger.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
})();
