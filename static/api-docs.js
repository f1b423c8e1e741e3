// Starts Swagger UI on /schema (no inline script: the page's CSP allows scripts from 'self').
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // the default would load a badge from swagger.io
  });
});
