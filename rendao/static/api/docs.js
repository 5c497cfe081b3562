// Starts Swagger UI on /api/v1/docs. Kept out of the page so that the
// Content-Security-Policy can forbid inline script.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var csrfToken = root.getAttribute("data-csrf-token");
  var unsafe = { POST: true, PUT: true, PATCH: true, DELETE: true };
  window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    // No call to the public validator service: no third-party requests.
    validatorUrl: null,
    requestInterceptor: function (request) {
      // "Try it out" with the signed-in session needs the CSRF token on writes;
      // with a Bearer token it is simply ignored.
      if (csrfToken && unsafe[(request.method || "").toUpperCase()]) {
        request.headers["X-CSRFToken"] = csrfToken;
      }
      return request;
    },
  });
})();
