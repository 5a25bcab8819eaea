// pavedroad portal: small behaviours on top of server-rendered pages. Everything works without it.
(function () {
  "use strict";

  // "/" focuses the global search, as on most developer tools.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var search = document.getElementById("global-search");
    if (search) { event.preventDefault(); search.focus(); search.select(); }
  });

  // The sidebar is a drawer on small screens.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-toggle-nav]");
    if (toggle) {
      var open = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
  });

  // Copy buttons: data-copy-target names the element whose text is copied.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.innerText).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // Arrow keys move through search results; Enter follows the link (native).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var list = document.querySelector("[data-keyboard-list]");
    if (!list) return;
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    if (!links.length) return;
    var index = links.indexOf(document.activeElement);
    var search = document.getElementById("global-search");
    if (index === -1 && document.activeElement !== search && !list.contains(document.activeElement)) return;
    event.preventDefault();
    index = event.key === "ArrowDown" ? Math.min(index + 1, links.length - 1) : index - 1;
    if (index < 0) { if (search) search.focus(); return; }
    links[index].focus();
  });

  // Line numbers beside the descriptor editor follow what is typed.
  function numberLines(textarea) {
    var gutter = document.getElementById(textarea.getAttribute("data-gutter"));
    if (!gutter) return;
    var count = textarea.value.split("\n").length;
    var lines = [];
    for (var i = 1; i <= Math.max(count, 1); i++) lines.push(i);
    gutter.textContent = lines.join("\n");
    gutter.scrollTop = textarea.scrollTop;
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-gutter]")) numberLines(event.target);
  });
  document.addEventListener("scroll", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-gutter]")) numberLines(event.target);
  }, true);
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-gutter]").forEach(numberLines);
    if (window.hljs) document.querySelectorAll("pre code[class*='language-']").forEach(function (block) { window.hljs.highlightElement(block); });
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (window.hljs) event.target.querySelectorAll("pre code[class*='language-']").forEach(function (block) { window.hljs.highlightElement(block); });
  });
})();
