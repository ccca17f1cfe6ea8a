// "Tick every one" above a list of checkboxes (the conference passes waiting for a decision).
// Shown only where JavaScript runs; without it the boxes are ticked one by one.
(function () {
  "use strict";
  document.querySelectorAll("input[data-tick-all]").forEach(function (all) {
    var name = all.getAttribute("data-tick-all");
    var holder = all.closest("[hidden]");
    if (holder) holder.removeAttribute("hidden");
    all.addEventListener("change", function () {
      all.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(
        function (box) { box.checked = all.checked; });
    });
  });
})();
