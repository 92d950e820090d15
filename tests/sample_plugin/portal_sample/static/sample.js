// On every page of the portal (register_page_assets), for users who keep notes: Alt+Shift+N
// opens the notes. Progressive enhancement only; the menu links there too.
"use strict";
document.addEventListener("keydown", function (event) {
  if (event.altKey && event.shiftKey && (event.key === "N" || event.key === "n")) {
    window.location.href = "/sample";
  }
});
