// The live panel: sent only by `cargo xtask book --open` (book-builder's
// serve.rs puts this script into each page it serves; the built files never
// hold it). It polls /_course/state.json once a second: a new build number
// reloads the page; on a chapter's pages, a box at the top shows the learner's
// state for that chapter and the command to run next.
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
    var next = text("p", "Next: ");
    next.appendChild(text("code", entry.next));
    box.appendChild(next);
    return box;
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
