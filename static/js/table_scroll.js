// A table wider than the screen scrolls sideways inside its .table-scroll box: say so above it,
// for as long as it is wider (the screen may turn).
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".table-scroll");
  function update() {
    boxes.forEach(function (box) {
      var wider = box.scrollWidth > box.clientWidth + 1;
      var cue = box.previousElementSibling;
      var hasCue = cue && cue.classList.contains("scroll-cue");
      if (wider && !hasCue) {
        cue = document.createElement("p");
        cue.className = "scroll-cue";
        cue.textContent = "Scroll sideways to see every column →";
        box.parentNode.insertBefore(cue, box);
      } else if (!wider && hasCue) {
        cue.remove();
      }
    });
  }
  update();
  window.addEventListener("resize", update);
})();
