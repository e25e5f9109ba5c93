// The staff pages' small helpers for a phone. Pages work without it; where
// it runs it labels each cell of a list shown as cards with its column's
// heading, and opens the folded filters on a wide screen. No inline
// script: the Content-Security-Policy forbids it.
(function () {
  "use strict";

  function labelCards(table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (cell, i) {
        if (heads[i] && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", heads[i]);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.cards").forEach(labelCards);
    if (window.matchMedia("(min-width: 769px)").matches) {
      document.querySelectorAll("details[data-wide-open]").forEach(function (d) {
        d.open = true;
      });
    }
  });
})();
