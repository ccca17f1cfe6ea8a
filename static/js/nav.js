// On narrow screens the main menu and the account links each fold behind a button ("Menu",
// "Account"). Without JavaScript they simply stay open.
(function () {
  document.querySelectorAll(".site-nav, .account-nav").forEach(function (nav) {
    var button = nav.querySelector(".nav-toggle");
    if (!button) return;
    nav.classList.add("nav-collapsible");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("open", open);
    });
  });
})();
