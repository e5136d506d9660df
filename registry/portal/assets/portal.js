// plat portal: optional enhancements. Every page works without this file.
(function () {
  "use strict";
  // Copy buttons: copy the snippet beside them.
  document.querySelectorAll("button.copy").forEach(function (b) {
    b.addEventListener("click", function () {
      var box = b.closest(".snippet-box");
      var code = box && box.querySelector("[data-copy]");
      if (!code || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(code.textContent).then(function () {
        var was = b.textContent;
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = was; }, 1500);
      });
    });
  });
  // Search as you type: hide the rows of the listed table that do not match.
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) { return; }
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var text = (tr.getAttribute("data-search") || tr.textContent).toLowerCase();
        tr.classList.toggle("hidden", q !== "" && text.indexOf(q) < 0);
      });
    });
  });
})();
