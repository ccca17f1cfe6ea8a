// Live progress of a mailing, on its page and on its sending page (campaigns/progress.html):
// while the mailing is scheduled, sending or paused, poll the progress JSON and fill in the bar
// and every [data-field] inside the section. The bar counts the messages finished (sent, failed,
// suppressed or cancelled) out of all of them, so it reaches the end when nothing is left to send.
// The status in the mailing's facts ([data-live-status]) is kept up to date as well.
// When the mailing finishes while the page is open, the page leaves its sending state: the
// Pause and Cancel buttons ([data-hide-when-finished]) and any notice about the sending (such
// as "Sending again.") go, the finish time shows, and the report ([data-report], made when the
// page opened) is replaced by the final one.
(function () {
  "use strict";
  var section = document.querySelector("section[data-progress-url]");
  if (!section || !window.fetch) {
    return;
  }
  var url = section.getAttribute("data-progress-url");
  var bar = section.querySelector("progress");
  var active = ["sending", "paused", "scheduled"];
  var wasActive = active.indexOf(section.getAttribute("data-status")) !== -1;

  function finish() {
    document.querySelectorAll("[data-hide-when-finished]").forEach(function (el) {
      el.hidden = true;
    });
    document.querySelectorAll(".messages").forEach(function (el) {
      el.parentNode.removeChild(el);
    });
    var finishedAt = document.getElementById("finished-at");
    if (finishedAt) {
      finishedAt.hidden = false;
    }
    refreshReport();
  }

  function refreshReport() {
    var report = document.querySelector("[data-report]");
    if (!report || !window.DOMParser) {
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Portal-Background": "1" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("[data-report]");
        if (fresh) {
          report.parentNode.replaceChild(document.importNode(fresh, true), report);
        }
      })
      .catch(function () {});
  }

  function show(data) {
    section.querySelectorAll("[data-field]").forEach(function (el) {
      var name = el.getAttribute("data-field");
      if (Object.prototype.hasOwnProperty.call(data, name)) {
        el.textContent = data[name];
      }
    });
    var finishedAt = document.querySelector("[data-field=finished_at]");
    if (finishedAt && data.finished_at) {
      finishedAt.textContent = data.finished_at;
    }
    if (bar) {
      bar.max = Math.max(1, data.total);
      bar.value = data.done;
      bar.textContent = data.done + " of " + data.total;
    }
    // The status shown elsewhere on the page (the mailing's facts) follows too.
    document.querySelectorAll("[data-live-status]").forEach(function (el) {
      el.textContent = data.status_label;
    });
    if (data.status !== "scheduled") {
      document.querySelectorAll("[data-scheduled-only]").forEach(function (el) {
        el.hidden = true;
      });
    }
    var still = active.indexOf(data.status) !== -1;
    if (!still && data.finished && wasActive) {
      finish();
    }
    return still;
  }

  function poll() {
    fetch(url, {
      credentials: "same-origin",
      // A poll, not the person at work: it does not keep a staff session from timing out.
      headers: { Accept: "application/json", "X-Portal-Background": "1" }
    })
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
