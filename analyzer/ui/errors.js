// Records uncaught errors, rejected promises, failed resource loads and
// console.error calls into #ui-errors, so that people see them on the page
// and headless tests find them in the DOM. Loaded first, as a classic script.
(function () {
  "use strict";
  var errors = [];
  function show() {
    var box = document.getElementById("ui-errors");
    if (!box || errors.length === 0) return;
    box.textContent = "Errors on this page:\n" + errors.join("\n");
    box.hidden = false;
  }
  function record(text) {
    errors.push(String(text));
    show();
  }
  window.addEventListener(
    "error",
    function (event) {
      var target = event.target;
      if (target && target !== window && (target.src || target.href)) {
        record("Failed to load " + (target.src || target.href));
      } else {
        var message = event.message || "error";
        record((/^Uncaught/.test(message) ? "" : "Uncaught ") + message +
          (event.filename ? " (" + event.filename + ":" + event.lineno + ")" : ""));
      }
    },
    true
  );
  window.addEventListener("unhandledrejection", function (event) {
    var reason = event.reason;
    record("Unhandled rejection: " + (reason && reason.stack ? reason.stack : reason));
  });
  var consoleError = console.error;
  console.error = function () {
    record(Array.prototype.map.call(arguments, String).join(" "));
    return consoleError.apply(console, arguments);
  };
  document.addEventListener("DOMContentLoaded", show);
})();
