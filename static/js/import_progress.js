// Polls an import's progress and updates the progress bar and its text; reloads the page when
// the import has finished. Without JavaScript the page offers a "Refresh" link instead.
(function () {
  "use strict";
  var box = document.querySelector("[data-import-progress]");
  if (!box) { return; }
  var url = box.getAttribute("data-import-progress");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");

  function poll() {
    fetch(url, {
      credentials: "same-origin",
      // A poll, not the person at work: it does not keep a session from timing out.
      headers: { "Accept": "application/json", "X-Portal-Background": "1" }
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(poll, 5000); return; }
        bar.max = Math.max(data.total_rows, 1);
        bar.value = data.processed_rows;
        text.textContent = data.status_label + ": " + data.processed_rows + " of " +
          data.total_rows + " rows";
        if (data.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
