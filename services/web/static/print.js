// The printout's "Skriv ut" button needs script to open the browser's print dialog (app.js
// makes every [data-print] button print). The page comes with the button hidden and a hint
// to print by the browser; here, with script, the button shows and the hint goes.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-print][hidden]");
  for (var i = 0; i < buttons.length; i++) { buttons[i].hidden = false; }
  var hints = document.querySelectorAll("[data-print-hint]");
  for (var j = 0; j < hints.length; j++) { hints[j].hidden = true; }
})();
