// Meddelanden: the files chosen to attach are checked as soon as they are chosen, and a
// form whose files the messaging service would refuse is not sent. Only an enhancement: the
// server checks the same, and says so at the field, without this script.
(function () {
  "use strict";
  var field = document.querySelector("[data-files]");
  if (!field) { return; }
  var input = field.querySelector("input[type=file]");
  var form = input.form;
  var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10);
  var maxFiles = parseInt(input.getAttribute("data-max-files"), 10);
  var allowed = input.getAttribute("accept").split(",");
  var errorId = "f-files-error";
  // the texts, in the page's language, from the page itself
  function text(kind, name) {
    return input.getAttribute("data-text-" + kind).replace("{name}", name || "");
  }

  function problems() {
    var found = [];
    var files = input.files || [];
    if (files.length > maxFiles) { found.push(text("count")); }
    for (var i = 0; i < files.length; i++) {
      var name = files[i].name;
      var lower = name.toLowerCase();
      var known = allowed.some(function (ending) { return lower.slice(-ending.length) === ending; });
      if (!known) {
        found.push(text("type", name));
      } else if (files[i].size > maxBytes) {
        found.push(text("size", name));
      }
    }
    return found;
  }

  function show(found) {
    var error = document.getElementById(errorId);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== errorId;
    });
    if (!found.length) {
      if (error) { error.parentNode.removeChild(error); }
      field.classList.remove("field--error");
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", described.join(" "));
      return;
    }
    if (!error) {
      error = document.createElement("p");
      error.id = errorId;
      error.className = "field-error";
      input.parentNode.insertBefore(error, input);
    }
    error.textContent = text("error") + " " + found.join(" ");
    field.classList.add("field--error");
    input.setAttribute("aria-invalid", "true");
    described.push(errorId);
    input.setAttribute("aria-describedby", described.join(" "));
  }

  input.addEventListener("change", function () { show(problems()); });
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.value === "search") { return; }
    var found = problems();
    if (found.length) {
      event.preventDefault();
      event.stopPropagation(); // not "sent": the form may be sent once the files are right
      show(found);
      input.focus();
    }
  });
})();
