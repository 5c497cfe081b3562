/* rendao's own script: small, no inline code anywhere (the CSP forbids it). */
(function () {
  "use strict";

  // Pages can tell that script runs: no-script fallbacks (submit buttons next to
  // auto-submitting selects) hide themselves through the "js" class.
  document.documentElement.classList.add("js");

  // Django's CSRF check for htmx requests: the token is in a meta tag written
  // by base.html, sent as the header Django reads.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRFToken"] = meta.getAttribute("content");
    }
  });

  // A <select data-autosubmit> submits its form when changed (language switch,
  // branch switcher); without script the form's own button does it.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      if (typeof target.form.requestSubmit === "function") {
        target.form.requestSubmit();
      } else {
        target.form.submit();
      }
    }
  });
})();
