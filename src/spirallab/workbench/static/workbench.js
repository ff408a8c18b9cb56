// Spiral Lab workbench: a little progressive enhancement; every page works without it.
"use strict";
(function () {
  // Print button on the brief (no inline handlers: the CSP forbids them).
  var print = document.getElementById("print");
  if (print) { print.addEventListener("click", function () { window.print(); }); }

  // Live filter of the world table as the user types (the Filter button does the same server side).
  var q = document.getElementById("q");
  var table = document.getElementById("world");
  var count = document.getElementById("count");
  if (q && table) {
    var total = table.tBodies[0].rows.length;
    q.addEventListener("input", function () {
      var key = q.value.trim().toLowerCase();
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var hit = row.cells[0].textContent.toLowerCase().indexOf(key) >= 0;
        row.hidden = !hit;
        if (hit) { shown += 1; }
      });
      if (count) { count.textContent = shown + " of " + total + " shown."; }
    });
  }

  // A running job: poll its progress and load the result when it is done.
  var status = document.getElementById("job-status");
  if (status) {
    var id = status.getAttribute("data-job");
    var bar = document.getElementById("job-progress");
    var label = document.getElementById("job-count");
    var poll = function () {
      fetch("/jobs/" + encodeURIComponent(id) + "/status", { cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          bar.max = job.total; bar.value = job.done;
          label.textContent = job.done + " of " + job.total + " runs";
          if (job.status === "done" || job.status === "failed") { window.location.reload(); }
          else { window.setTimeout(poll, 150); }
        })
        .catch(function () { window.setTimeout(poll, 500); });
    };
    poll();
  }
})();
