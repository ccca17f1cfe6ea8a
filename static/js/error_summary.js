// A form's error summary: the page opens on it, so that a screen reader reads the problems and
// a keyboard user starts from there; each link moves to its field and shows the field's label.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    var group = field.closest("fieldset");
    var label = document.querySelector("label[for='" + field.id + "']");
    var shown = (group && group.querySelector("legend")) || label || field;
    field.focus({ preventScroll: true });
    shown.scrollIntoView();
  });
})();
