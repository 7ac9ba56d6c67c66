// Renders the service's OpenAPI document (served by the API at /openapi.json) with swagger-ui.
(function () {
  "use strict";
  SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger",
    deepLinking: true,
    validatorUrl: null,
    onComplete: function () {
      document.body.dataset.ready = "1";
    },
  });
})();
