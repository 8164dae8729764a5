// The live panel: sent only by `cargo xtask book --open` (book-builder's
// serve.rs puts this script into each page it serves; the built files never
// hold it). It polls /_course/state.json once a second: a new build number
// reloads the page; on a chapter's pages, a box at the top shows the learner's
// state for that chapter, what its latest bench reported (chapter 5's hit
// ratios beside moka's and the optimum's) and the command to run next.
(function () {
  "use strict";
  var chapter = location.pathname.split("/").filter(Boolean)[0] || "";
  var build = null;
  var shown = "";

  function text(tag, words, cls) {
    var el = document.createElement(tag);
    el.textContent = words;
    if (cls) el.className = cls;
    return el;
  }

  function render(entry) {
    var box = document.createElement("aside");
    box.id = "course-panel";
    box.setAttribute("data-state", entry.state);
    box.setAttribute("aria-live", "polite");
    var head = "Your chapter " + entry.number + ": ";
    if (entry.state === "not-started") {
      box.appendChild(text("p", head + "not started yet."));
    } else if (entry.state === "failing") {
      var counts = entry.total
        ? entry.passing + " of " + entry.total + " checks pass"
        : "the code does not compile";
      box.appendChild(text("p", head + (entry.passed_before ? "passed earlier, failing now: " : "failing: ") + counts + "."));
      if (entry.failing && entry.failing.length) {
        box.appendChild(text("p", "Still failing:"));
        var list = document.createElement("ul");
        entry.failing.forEach(function (name) {
          list.appendChild(text("li", name));
        });
        box.appendChild(list);
      }
    } else if (entry.state === "passed") {
      var ratio = entry.ratio ? " Your latest bench ran " + entry.ratio.toFixed(1) + "× as fast as the starter." : "";
      box.appendChild(text("p", head + "passed." + ratio));
    } else {
      box.appendChild(text("p", head + "started; not checked yet."));
    }
    var readings = readingsLine(entry.readings);
    if (readings && entry.state !== "not-started") box.appendChild(readings);
    var next = text("p", "Next: ");
    next.appendChild(text("code", entry.next));
    box.appendChild(next);
    return box;
  }

  // What the latest bench reported (chapter 5: "Hit ratio (latest bench):
  // yours 0.612 · moka 0.655 · optimal 0.741"), every value with as many decimals as the
  // longest the bench wrote, so that the numbers line up.
  function readingsLine(r) {
    if (!r || !r.values || !r.values.length) return null;
    var decimals = 0;
    r.values.forEach(function (v) {
      var part = String(v.value).split(".")[1] || "";
      decimals = Math.min(6, Math.max(decimals, part.length));
    });
    var shown = r.values.map(function (v) {
      return v.name + " " + v.value.toFixed(decimals);
    });
    var label = r.label.charAt(0).toUpperCase() + r.label.slice(1);
    return text("p", label + " (latest bench): " + shown.join(" · "), "course-readings");
  }

  function show(panel) {
    var entry = panel && panel.chapters && panel.chapters[chapter];
    var key = JSON.stringify(entry || null);
    if (key === shown) return;
    shown = key;
    var old = document.getElementById("course-panel");
    if (old) old.remove();
    if (!entry) return;
    var main = document.querySelector("main") || document.body;
    main.insertBefore(render(entry), main.firstChild);
  }

  function poll() {
    fetch("/_course/state.json", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (!state) return;
        if (build !== null && state.build !== build) {
          location.reload();
          return;
        }
        build = state.build;
        show(state.panel);
      })
      .catch(function () { /* the server stopped: the page stays as it is */ })
      .then(function () { setTimeout(poll, 1000); });
  }

  var style = document.createElement("style");
  style.textContent =
    "#course-panel{margin:1em 0;padding:.4em 1em;border-left:4px solid var(--quote-border);" +
    "background:var(--quote-bg);color:var(--fg);overflow-wrap:anywhere;font-size:.9em}" +
    "#course-panel[data-state=passed]{border-left-color:#2e8b57}" +
    "#course-panel[data-state=failing]{border-left-color:#c0392b}" +
    "#course-panel p{margin:.4em 0}#course-panel ul{margin:.2em 0}";
  document.head.appendChild(style);
  poll();
})();
