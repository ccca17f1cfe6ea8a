// The header's search box as a combobox: as the person types (two letters or more), the best
// results open below it in a listbox, grouped by kind, and their count is announced. Focus stays
// in the box: the up and down arrows move through the results (aria-activedescendant), Enter
// opens the one chosen, Escape closes them (and then clears the box). Enter with no result
// chosen, or no JavaScript at all, opens the results page.
(function () {
  var form = document.querySelector(".site-search");
  if (!form || !window.fetch) return;
  var input = form.querySelector("input[type='search']");
  var panel = document.getElementById("site-search-results");
  var status = document.getElementById("site-search-status");
  var url = form.getAttribute("data-results-url");
  var MIN_LENGTH = 2;
  var timer = null;
  var request = null;
  var shown = "";
  var active = -1;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", "site-search-results");

  function options() {
    return Array.prototype.slice.call(panel.querySelectorAll("[role='option']"));
  }

  function choose(index) {
    var found = options();
    active = found.length ? Math.max(-1, Math.min(index, found.length - 1)) : -1;
    found.forEach(function (option, at) {
      var chosen = at === active;
      option.setAttribute("aria-selected", String(chosen));
      option.classList.toggle("is-active", chosen);
      if (chosen) option.scrollIntoView({ block: "nearest" });
    });
    if (active >= 0) input.setAttribute("aria-activedescendant", found[active].id);
    else input.removeAttribute("aria-activedescendant");
  }

  function open() {
    if (!shown) return;
    panel.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function close() {
    panel.hidden = true;
    input.setAttribute("aria-expanded", "false");
    choose(-1);
  }

  function clear() {
    panel.textContent = "";
    status.textContent = "";
    shown = "";
    close();
  }

  function show(query, html) {
    panel.innerHTML = html;
    shown = query;
    active = -1;
    var summary = panel.querySelector("[data-search-summary]");
    status.textContent = summary ? summary.textContent : "";
    open();
  }

  function go(option) {
    var href = option && option.getAttribute("data-href");
    if (href) window.location.assign(href);
  }

  function look() {
    var query = input.value.trim();
    if (query.length < MIN_LENGTH) {
      clear();
      return;
    }
    if (query === shown) {
      open();
      return;
    }
    if (request) request.abort();
    request = new AbortController();
    fetch(url + "?q=" + encodeURIComponent(query), {
      credentials: "same-origin",
      signal: request.signal,
    })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        if (input.value.trim() === query) show(query, html);
      })
      .catch(function () {});
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(look, 150);
  });

  input.addEventListener("keydown", function (event) {
    var count = options().length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!shown || !count) return;
      event.preventDefault();
      if (panel.hidden) {
        open();
        choose(event.key === "ArrowDown" ? 0 : count - 1);
      } else if (event.key === "ArrowDown") {
        choose(active + 1 < count ? active + 1 : 0);
      } else {
        choose(active > 0 ? active - 1 : count - 1);
      }
    } else if (event.key === "Enter" && !panel.hidden && active >= 0) {
      event.preventDefault();
      go(options()[active]);
    } else if (event.key === "Escape") {
      if (!panel.hidden) {
        event.preventDefault();
        close();
      } else if (input.value) {
        event.preventDefault();
        input.value = "";
        clear();
      }
    }
  });

  // A press on a result keeps the focus in the box, so the results stay open for the click.
  panel.addEventListener("mousedown", function (event) {
    event.preventDefault();
  });
  panel.addEventListener("click", function (event) {
    var option = event.target.closest("[role='option']");
    if (option) go(option);
  });

  input.addEventListener("focus", open);
  // Leaving the box (by Tab or a click elsewhere) closes the results.
  form.addEventListener("focusout", function (event) {
    if (!event.relatedTarget || !form.contains(event.relatedTarget)) close();
  });
  document.addEventListener("click", function (event) {
    if (!form.contains(event.target)) close();
  });
})();
