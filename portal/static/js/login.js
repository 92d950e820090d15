// Login page (MAIL-15): the password leaves the browser encrypted with the server's RSA key
// (RSA-OAEP, SHA-256), together with the page's one-time nonce and the time, so a captured
// form cannot be sent again. Without WebCrypto (plain http to a host other than localhost) or
// when the password is too long for one RSA block, the form posts as it is, over TLS.
"use strict";
(function () {
  var form = document.getElementById("login-form");
  var subtle = window.crypto && window.crypto.subtle;
  if (!form || !form.dataset.key || !subtle || !window.TextEncoder) { return; }
  // The server's clock plus the time spent on this page: a wrong clock on the PC does not matter.
  var offset = Number(form.dataset.time) * 1000 - Date.now();
  var algorithm = { name: "RSA-OAEP", hash: "SHA-256" };
  var busy = false;

  function bytes(base64) {
    return Uint8Array.from(atob(base64), function (c) { return c.charCodeAt(0); });
  }

  // Back to this page from the next one: submitting again must work (the server then asks to retype).
  window.addEventListener("pageshow", function () { busy = false; });
  form.addEventListener("submit", function (event) {
    var password = form.elements.password;
    if (busy) { event.preventDefault(); return; }
    busy = true;
    event.preventDefault();
    var payload = new TextEncoder().encode(form.dataset.nonce + "\n" + (Date.now() + offset) + "\n" + password.value);
    subtle.importKey("spki", bytes(form.dataset.key), algorithm, false, ["encrypt"])
      .then(function (key) { return subtle.encrypt(algorithm, key, payload); })
      .then(function (cipher) {
        form.elements.password_key.value = form.dataset.keyId;
        form.elements.password_cipher.value = btoa(String.fromCharCode.apply(null, new Uint8Array(cipher)));
        password.value = "";
      }, function () { /* the plain form */ })
      .then(function () { form.submit(); });
  });
})();
