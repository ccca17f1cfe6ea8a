// Live progress for a mailing being sent: polls the progress JSON every two seconds while the
// mailing is sending or paused and fills in the counts and the progress bar.
(function () {
  "use strict";
  var section = document.querySelector("[data-progress-url]");
  if (!section || !window.fetch) {
    return;
  }
  var url = section.getAttribute("data-progress-url");
  var bar = document.getElementById("sending-bar");
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
      bar.value = data.sent;
      bar.textContent = data.sent + " of " + data.total;
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
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 1000);
})();
