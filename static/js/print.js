// A "Print" button for printable pages (the attendance sheet): shown only where JavaScript
// runs; the page itself says how to print without it (the element marked data-print-hint).
(function () {
  "use strict";
  if (typeof window.print !== "function") {
    return;
  }
  var buttons = document.querySelectorAll("button[data-print]");
  if (!buttons.length) {
    return;
  }
  Array.prototype.forEach.call(buttons, function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
    button.hidden = false;
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-print-hint]"), function (hint) {
    hint.hidden = true;
  });
})();
