// Council picker: adds a search box that narrows the long list of councils. Without this
// script the plain list still works (and browsers let you type to jump within it).
(function () {
  "use strict";
  document.querySelectorAll("[data-council-picker]").forEach(function (picker) {
    var select = picker.querySelector("select");
    if (!select) return;
    var options = Array.prototype.slice.call(select.options);
    var field = document.createElement("div");
    field.className = "field";
    var label = document.createElement("label");
    label.htmlFor = select.id + "_search";
    label.textContent = "Search councils";
    var input = document.createElement("input");
    input.type = "search";
    input.id = select.id + "_search";
    input.setAttribute("autocomplete", "off");
    input.setAttribute("aria-controls", select.id);
    var status = document.createElement("p");
    status.className = "help";
    status.id = select.id + "_search_status";
    status.setAttribute("aria-live", "polite");
    input.setAttribute("aria-describedby", status.id);
    field.appendChild(label);
    field.appendChild(input);
    field.appendChild(status);
    picker.insertBefore(field, picker.firstChild);

    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var matches = 0;
      options.forEach(function (option) {
        var text = option.text.toLowerCase();
        var match = option.value !== "" && words.every(function (w) { return text.indexOf(w) !== -1; });
        // The chosen council stays in the list so the form keeps it, but it is counted only
        // if it matches what was typed.
        var shown = match || option.selected;
        option.hidden = !shown;
        option.disabled = !shown;
        if (match) matches += 1;
      });
      if (!words.length) {
        status.textContent = "";
      } else {
        status.textContent = matches === 1 ? "1 council matches" : matches + " councils match";
      }
    });
  });
})();
