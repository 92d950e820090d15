// Webmail live updates on every page of the portal (register_page_assets), for users of the
// mailbox: progressive enhancement only, every page works without this file.
// Listens on the user's event stream (/events); on "mail" it counts the new messages into the
// unread badge, shows a toast (role=status) and, only if the user allowed it, a desktop
// notification.
"use strict";
(function () {
  var TOAST_MS = 10000;
  var toastTimer = null;

  function badges() { return document.querySelectorAll("[data-webmail-unread]"); }

  function addUnread(added) {
    badges().forEach(function (badge) {
      var count = (parseInt(badge.textContent, 10) || 0) + added;
      badge.textContent = String(count);
      badge.hidden = !count;
    });
  }

  function toastElement() {
    var toast = document.getElementById("webmail-toast");
    if (!toast) {
      toast = document.createElement("div");
      toast.id = "webmail-toast";
      toast.className = "webmail-toast";
      toast.setAttribute("role", "status");
      toast.setAttribute("aria-live", "polite");
      document.body.appendChild(toast);
    }
    return toast;
  }

  function showToast(mail) {
    var toast = toastElement();
    toast.textContent = "";
    var title = document.createElement("strong");
    title.textContent = (document.documentElement.lang === "en" ? "New mail" : "新邮件") + (mail.sender ? ": " + mail.sender : "");
    toast.appendChild(title);
    toast.appendChild(document.createElement("br"));
    var link = document.createElement("a");
    link.href = mail.url && mail.url.indexOf("/webmail/") === 0 ? mail.url : "/webmail";
    link.textContent = mail.subject || "(…)";
    toast.appendChild(link);
    toast.hidden = false;
    if (toastTimer) { clearTimeout(toastTimer); }
    toastTimer = setTimeout(function () { toast.hidden = true; }, TOAST_MS);
  }

  function notify(mail) {
    if (!("Notification" in window) || Notification.permission !== "granted") { return; }
    try {
      var note = new Notification(mail.sender || "Mail", { body: mail.subject || "", tag: "webmail" });
      note.onclick = function () { window.focus(); if (mail.url && mail.url.indexOf("/webmail/") === 0) { location.href = mail.url; } };
    } catch (error) { /* some browsers only allow notifications from a service worker */ }
  }

  function setUpNotificationButton() {
    var buttons = document.querySelectorAll("[data-webmail-notify]");
    if (!("Notification" in window) || Notification.permission !== "default") { return; }
    buttons.forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        // Asked only when the person clicks, never on page load.
        Promise.resolve(Notification.requestPermission()).then(function () {
          if (Notification.permission !== "default") { buttons.forEach(function (b) { b.hidden = true; }); }
        });
      });
    });
  }

  function listen() {
    if (!window.EventSource) { return; }
    var source = new EventSource("/events");
    source.addEventListener("mail", function (event) {
      var mail;
      try { mail = JSON.parse(event.data); } catch (error) { return; }
      if (typeof mail.added === "number") { addUnread(mail.added); }
      showToast(mail);
      notify(mail);
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  function start() { setUpNotificationButton(); listen(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
