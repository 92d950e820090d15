// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("htmx:responseError", function (event) {
  // Show the server's error fragment instead of silently doing nothing.
  var target = event.detail.target;
  if (target && event.detail.xhr.responseText) { target.innerHTML = event.detail.xhr.responseText; }
});
