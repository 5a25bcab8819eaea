// API tab: Swagger UI for OpenAPI definitions, highlight.js for AsyncAPI, GraphQL and gRPC.
// Without it the tab is still readable: the definition's text is always on the page.
(function () {
  "use strict";

  // htmx runs this file again after each swap of the tab; what must happen once lives on window.
  var state = window.pavedroadApi || (window.pavedroadApi = { loading: {}, listening: false });

  function load(src) {
    if (!state.loading[src]) {
      state.loading[src] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = resolve;
        script.onerror = function () { reject(new Error("could not load " + src)); };
        document.head.appendChild(script);
      });
    }
    return state.loading[src];
  }

  function showSwagger(host) {
    var source = document.getElementById(host.getAttribute("data-spec"));
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var ready = window.SwaggerUIBundle ? Promise.resolve() : load(host.getAttribute("data-swagger-src"));
    ready.then(function () {
      host.textContent = "";
      // Swagger UI's dark theme hangs off a class on <html>; follow the system like the portal.
      var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
      document.documentElement.classList.toggle("dark-mode", !!dark);
      window.SwaggerUIBundle({
        spec: spec,
        domNode: host,
        deepLinking: false,
        docExpansion: "list",
        defaultModelsExpandDepth: 0,
        // A catalog is for reading: no "Try it out", no calls to the public validator.
        supportedSubmitMethods: [],
        tryItOutEnabled: false,
        validatorUrl: null
      });
    }).catch(function () {
      var loading = host.querySelector("[data-loading]");
      if (loading) loading.textContent = "The API viewer could not be loaded; the definition is below.";
    });
  }

  function highlight(view, block) {
    var language = block.getAttribute("data-language");
    if (!language || block.hasAttribute("data-highlighted")) return;
    var core = window.hljs ? Promise.resolve() : load(view.getAttribute("data-hljs-src"));
    core.then(function () {
      if (window.hljs.getLanguage(language)) return undefined;
      var module = view.getAttribute("data-language-" + language);
      return module ? load(module) : undefined;
    }).then(function () {
      if (!window.hljs.getLanguage(language) || block.hasAttribute("data-highlighted")) return;
      // Highlighted here rather than by class: app.js highlights `language-*` blocks with the
      // core languages only, before protobuf is loaded.
      var result = window.hljs.highlight(block.textContent, { language: language, ignoreIllegals: true });
      block.innerHTML = result.value;
      block.classList.add("hljs");
      block.setAttribute("data-highlighted", "yes");
    }).catch(function () { /* the plain text stays */ });
  }

  function scan() {
    document.querySelectorAll("[data-api-view]:not([data-api-ready])").forEach(function (view) {
      view.setAttribute("data-api-ready", "");
      var host = view.querySelector("[data-swagger]");
      if (host) showSwagger(host);
      view.querySelectorAll("code[data-language]").forEach(function (block) { highlight(view, block); });
    });
  }

  if (!state.listening) {
    state.listening = true;
    // A page restored from htmx's history is a snapshot of HTML: Swagger UI must start again.
    document.addEventListener("htmx:historyRestore", function () {
      document.querySelectorAll("[data-api-view][data-api-ready]").forEach(function (view) {
        view.removeAttribute("data-api-ready");
      });
      scan();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
