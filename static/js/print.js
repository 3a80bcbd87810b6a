// A "Print" button for pages that offer one: shown only when this script runs (without JavaScript the
// page says to use the browser's own Print command instead).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
