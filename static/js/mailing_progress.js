// Live progress of a mailing, on its page and on its sending page (campaigns/progress.html):
// while the mailing is scheduled, sending or paused, poll the progress JSON and fill in the bar
// and every [data-field] inside the section. The bar counts the messages finished (sent, failed,
// suppressed or cancelled) out of all of them, so it reaches the end when nothing is left to send.
(function () {
  "use strict";
  var section = document.querySelector("section[data-progress-url]");
  if (!section || !window.fetch) {
    return;
  }
  var url = section.getAttribute("data-progress-url");
  var bar = section.querySelector("progress");
  var active = ["sending", "paused", "scheduled"];

  function show(data) {
    section.querySelectorAll("[data-field]").forEach(function (el) {
      var name = el.getAttribute("data-field");
      if (Object.prototype.hasOwnProperty.call(data, name)) {
        el.textContent = data[name];
      }
    });
    if (bar) {
      bar.max = Math.max(1, data.total);
      bar.value = data.done;
      bar.textContent = data.done + " of " + data.total;
    }
    return active.indexOf(data.status) !== -1;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && show(data)) {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  poll();
})();
