// The billing run's page follows the run while it is at work: it asks for itself every few
// seconds and puts the new status in place (the region is aria-live). Without script the
// "Uppdatera" link does the same.
(function () {
  "use strict";
  var region = document.querySelector("[data-refresh]");
  if (!region || !window.fetch || !window.DOMParser) { return; }
  var seconds = parseInt(region.getAttribute("data-refresh"), 10) || 2;
  function follow() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
        if (!fresh) { return; }
        region.innerHTML = fresh.innerHTML;
        if (fresh.hasAttribute("data-refresh")) { window.setTimeout(follow, seconds * 1000); }
        else { region.removeAttribute("data-refresh"); }
      })
      .catch(function () { window.setTimeout(follow, seconds * 4000); });
  }
  window.setTimeout(follow, seconds * 1000);
})();
