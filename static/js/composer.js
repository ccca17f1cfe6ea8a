// The mailing composer's live audience count: when any audience field changes, ask the server
// how many addresses the rule reaches and show it in the live region (screen readers hear it).
(function () {
  "use strict";
  var form = document.getElementById("mailing-form");
  var output = document.getElementById("audience-count");
  if (!form || !output || !window.fetch) return;
  var url = form.getAttribute("data-count-url");
  var fields = ["regions", "all_regions", "council_kinds", "controls", "election_date", "recipients",
    "fall_back_to_contact", "event_audience", "event"];
  var timer = null;
  var latest = 0;

  function element(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function plural(n, one, many) { return n === 1 ? one : many; }

  function list(items, limit) {
    var ul = element("ul");
    ul.className = "compact-list";
    items.slice(0, limit).forEach(function (text) { ul.appendChild(element("li", text)); });
    return ul;
  }

  function show(data) {
    output.replaceChildren();
    var p = element("p");
    p.appendChild(element("strong", String(data.count)));
    p.appendChild(document.createTextNode(
      " " + plural(data.count, "address", "addresses") + " will receive this mailing."));
    output.appendChild(p);
    var groupCount = data.group_count;
    var without = data.groups_without_address_count;
    if (data.people) {
      // People chosen by their booking on an event: no groups to report on.
      output.appendChild(element("p", data.people + "."));
    } else {
      output.appendChild(element("p", groupCount + " " +
        plural(groupCount, "group matches", "groups match") + " the rule" +
        (groupCount ? "; " + without + " of them " + plural(without, "has", "have") +
          " no usable address" : "") + "."));
    }
    var letters = data.letter_count || 0;
    if (letters) {
      output.appendChild(element("p", letters + " of them " + plural(letters, "has", "have") +
        " a postal address and will get a letter by post, printed from the sending page."));
    }
    var nothing = without - letters;
    if (nothing) {
      var warning = element("p");
      warning.className = "notice notice-warning";
      warning.appendChild(element("strong", nothing + " of the " + groupCount + " " +
        plural(groupCount, "group", "groups") + " will get nothing"));
      warning.appendChild(document.createTextNode(
        ": no address to write to, or every address suppressed."));
      output.appendChild(warning);
    }
    // Only staff are sent the suppressed addresses; others see how many there are.
    if (data.suppressed_count) {
      output.appendChild(element("p", data.suppressed_count +
        " suppressed (unsubscribed, bounced or complained), not written to."));
      if (data.suppressed) {
        output.appendChild(details("The " + data.suppressed_count + " suppressed " +
          plural(data.suppressed_count, "address", "addresses"), [list(data.suppressed, 50)]));
      }
    }
    if (data.missing && data.missing.length) {
      output.appendChild(element("p", "Gaps in the message:"));
      output.appendChild(list(data.missing.map(function (m) { return m.message; }),
        data.missing.length));
    }
    var groups = data.groups_without_address;
    if (groups.length) {
      var parts = [list(groups.map(function (g) {
        return g.name + " (" + g.council + ")" + (g.by_post ? ": a letter by post" : "");
      }),
        data.groups_shown)];
      if (groups.length > data.groups_shown) {
        parts.push(element("p", "and " + (groups.length - data.groups_shown) + " more."));
      }
      output.appendChild(details("The " + groups.length + " " +
        plural(groups.length, "group", "groups") + " with no usable address", parts));
    }
  }

  // A long list, folded away under a summary that says what it holds.
  function details(summary, parts) {
    var node = element("details");
    node.className = "audience-details";
    node.appendChild(element("summary", summary));
    parts.forEach(function (part) { node.appendChild(part); });
    return node;
  }

  function showErrors(errors) {
    output.replaceChildren();
    var messages = [];
    Object.keys(errors).forEach(function (name) {
      errors[name].forEach(function (e) { messages.push(e.message); });
    });
    output.appendChild(element("p", "Can't count yet: " + messages.join(" ")));
  }

  function update() {
    var params = new URLSearchParams();
    var data = new FormData(form);
    fields.forEach(function (name) {
      data.getAll(name).forEach(function (value) { params.append(name, value); });
    });
    params.append("fields", "");  // present even when the message uses no merge field
    mergeFields().forEach(function (name) { params.append("fields", name); });
    var request = ++latest;
    output.setAttribute("aria-busy", "true");
    fetch(url + "?" + params.toString(), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (request !== latest) return;  // a newer request is on its way
      if (result.ok) show(result.body); else showErrors(result.body.errors || {});
    }).catch(function () {
      if (request === latest) output.replaceChildren(element("p", "The count could not be updated."));
    }).finally(function () {
      if (request === latest) output.removeAttribute("aria-busy");
    });
  }

  // The merge fields the subject and body use without a |default (the server checks the names
  // and counts the recipients with no value for each).
  function mergeFields() {
    var text = ["subject", "body"].map(function (name) {
      var field = form.elements.namedItem(name);
      return field ? field.value : "";
    }).join("\n");
    var found = [];
    var pattern = /\{\{\s*([\w.]+)\s*((?:\|[^}]*)?)\}\}/g;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (/\|\s*default\s*:/.test(match[2])) continue;
      if (found.indexOf(match[1]) === -1) found.push(match[1]);
    }
    return found;
  }

  function schedule(event) {
    var watched = fields.concat(["subject", "body"]);
    if (!event.target.name || watched.indexOf(event.target.name) === -1) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 400);
  }

  form.addEventListener("change", schedule);
  form.addEventListener("input", schedule);
  // A new mailing shows the count for its starting rule straight away.
  update();
})();
