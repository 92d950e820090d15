/* The kiosk screen (PUB-2): back to the home screen when nobody touched it for a while, the
   pages kept by the service worker for when the network drops, a notice while it is down, and
   a fresh page as soon as it is back. The pages work without this file; it only adds these. */
(function () {
  "use strict";
  var body = document.body;
  var home = body.getAttribute("data-home") || "";
  var idleMs = Math.max(3, parseInt(body.getAttribute("data-idle"), 10) || 120) * 1000;
  var pingMs = Math.max(1000, parseInt(body.getAttribute("data-ping"), 10) || 5000);
  var notice = document.querySelector(".kiosk-offline");
  var idleTimer = null;
  var pingTimer = null;
  var down = false;
  var shownWhileDown = false;  // this page came from what the screen kept: reload it when back
  // The worker's "not kept" page standing in for another address (whose page it could not fetch).
  var standIn = body.classList.contains("kiosk-page-offline") &&
      location.pathname !== body.getAttribute("data-offline-page");

  function goHome() {
    if (!home) { return; }
    if (location.pathname === home && !location.search) {
      window.scrollTo(0, 0);
      restartIdle();
    } else {
      location.assign(home);
    }
  }

  function restartIdle() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(goHome, idleMs);
  }

  ["pointerdown", "touchstart", "keydown", "wheel", "scroll"].forEach(function (type) {
    window.addEventListener(type, restartIdle, {passive: true, capture: true});
  });
  restartIdle();

  function ping() {
    return fetch("/kiosk/ping", {cache: "no-store", credentials: "same-origin"}).then(function (response) {
      return response.status === 204;
    }, function () { return false; });
  }

  function setDown(isDown) {
    if (isDown === down) { return; }
    down = isDown;
    if (notice) { notice.hidden = !isDown; }
    body.classList.toggle("kiosk-is-offline", isDown);
    if (isDown) {
      watch();
    } else if (shownWhileDown) {
      location.reload();
    }
  }

  function check() {
    return ping().then(function (up) {
      setDown(!up);
      if (!up) { watch(); }
      return up;
    });
  }

  function watch() {
    clearTimeout(pingTimer);
    pingTimer = setTimeout(check, pingMs);
  }

  window.addEventListener("offline", function () { setDown(true); });
  window.addEventListener("online", check);
  check().then(function (up) {
    if (!up) {
      shownWhileDown = true;
    } else if (standIn) {
      // The network answers but the worker could not fetch this page a moment ago (the network
      // was just coming back): try again, no more often than the network is looked for.
      setTimeout(function () { location.reload(); }, pingMs);
    }
  });

  if ("serviceWorker" in navigator && body.getAttribute("data-worker")) {
    navigator.serviceWorker.register(body.getAttribute("data-worker"), {scope: "/kiosk/"}).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      var keep = [];
      if (body.getAttribute("data-offline-page")) { keep.push(body.getAttribute("data-offline-page")); }
      if (home) { keep.push(home); }
      document.querySelectorAll("a.kiosk-tile").forEach(function (tile) { keep.push(tile.getAttribute("href")); });
      if (registration.active) { registration.active.postMessage({keep: keep}); }
    }).catch(function () { /* without a worker the screen still works, only not offline */ });
  }
}());
