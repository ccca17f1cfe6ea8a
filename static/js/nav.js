// On narrow screens the main menu folds behind a "Menu" button. Without JavaScript it simply
// stays open.
(function () {
  var nav = document.querySelector(".site-nav");
  if (!nav) return;
  var button = nav.querySelector(".nav-toggle");
  nav.classList.add("nav-collapsible");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
})();
