// Progressive enhancement of the attendance sheet: a button that opens the print dialog
// (without JavaScript the browser's own Print command does the same).
document.querySelectorAll(".print-button").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
