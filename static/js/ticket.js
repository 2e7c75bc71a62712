// The printable ticket's "Print" button: shown only where JavaScript runs (the page itself
// says how to print without it).
(function () {
  "use strict";
  var button = document.getElementById("print-ticket");
  var hint = document.getElementById("print-hint");
  if (!button || typeof window.print !== "function") {
    return;
  }
  button.addEventListener("click", function () {
    window.print();
  });
  button.hidden = false;
  if (hint) {
    hint.hidden = true;
  }
})();
