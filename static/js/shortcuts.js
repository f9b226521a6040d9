/* Alt+letter shortcuts of the hall's pages, the same in every browser (native accesskey differs:
   Alt in Chromium, Alt+Shift in Firefox, and is not reachable by scripted input). An element with
   data-key="n" is focused by Alt+N; a link, button or checkbox is also activated. */
(function () {
  "use strict";
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    var m = /^Key([A-Z])$/.exec(e.code);
    if (!m) return;
    var target = document.querySelector('[data-key="' + m[1].toLowerCase() + '"]');
    if (!target || target.closest("[hidden]")) return;
    e.preventDefault();
    target.focus();
    if (target.matches("a, button, input[type=checkbox], input[type=radio]")) target.click();
  });
})();
