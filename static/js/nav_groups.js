// A group of links in the main menu (a <details> element) closes when Escape is pressed inside
// it, returning focus to its heading, or when the person clicks or tabs elsewhere. Without
// JavaScript the group still opens and closes by its heading.
(function () {
  var groups = document.querySelectorAll(".site-nav .nav-group details");
  if (!groups.length) return;
  groups.forEach(function (group) {
    group.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && group.open) {
        group.open = false;
        group.querySelector("summary").focus();
      }
    });
    group.addEventListener("focusout", function (event) {
      if (event.relatedTarget && !group.contains(event.relatedTarget)) group.open = false;
    });
  });
  document.addEventListener("click", function (event) {
    groups.forEach(function (group) {
      if (group.open && !group.contains(event.target)) group.open = false;
    });
  });
})();
