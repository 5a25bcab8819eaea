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
    if (event.target.id === "tab-panel") {
      var selected = document.querySelector('.tabs [role="tab"][aria-selected="true"]');
      if (selected) event.target.setAttribute("aria-labelledby", selected.id);
    }
    if (window.hljs) event.target.querySelectorAll("pre code[class*='language-']").forEach(function (block) { window.hljs.highlightElement(block); });
    foldFacets(event.target);
  });

  // On a phone the catalog's facets would push the results a screen down: fold the groups
  // with nothing selected. Without JavaScript they stay open.
  function foldFacets(root) {
    if (!window.matchMedia("(max-width: 860px)").matches) return;
    root.querySelectorAll("details.facet-group").forEach(function (group) {
      if (!group.querySelector("input:checked")) group.open = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { foldFacets(document); });
})();

// -- Register page: problems jump to their line; the gutter marks lines with problems. ----------
// -- Search page: typing in the top bar's search updates the results in place. -----------------
(function () {
  "use strict";

  function errorLines(textarea) {
    return (textarea.getAttribute("data-error-lines") || "").split(/\s+/).filter(Boolean);
  }

  // Runs after the generic numberLines above (registered earlier), and redraws the gutter as one
  // element per line so that lines with problems can be marked.
  function markGutter(textarea) {
    var gutter = document.getElementById(textarea.getAttribute("data-gutter"));
    if (!gutter) return;
    var marked = {};
    errorLines(textarea).forEach(function (line) { marked[line] = true; });
    var count = Math.max(textarea.value.split("\n").length, 1);
    var html = [];
    for (var i = 1; i <= count; i++) html.push(marked[i] ? '<span class="error">' + i + "</span>" : "<span>" + i + "</span>");
    gutter.innerHTML = html.join("");
    gutter.scrollTop = textarea.scrollTop;
  }
  function markAll() { document.querySelectorAll("textarea[data-error-lines]").forEach(markGutter); }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-error-lines]")) markGutter(event.target);
  });
  document.addEventListener("scroll", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-error-lines]")) markGutter(event.target);
  }, true);
  document.addEventListener("DOMContentLoaded", markAll);

  // A fresh check names the lines with problems; the editor takes them over.
  document.addEventListener("htmx:afterSwap", function (event) {
    var panel = event.target.querySelector && event.target.querySelector("[data-error-lines][data-editor]");
    if (!panel) return;
    var textarea = document.getElementById(panel.getAttribute("data-editor"));
    if (!textarea) return;
    textarea.setAttribute("data-error-lines", panel.getAttribute("data-error-lines") || "");
    var editor = textarea.closest(".editor");
    if (editor) editor.classList.toggle("has-errors", errorLines(textarea).length > 0);
    markGutter(textarea);
  });

  // "line 5, column 3" selects that line in the editor and scrolls it into view.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-goto-line]");
    if (!link) return;
    var textarea = document.getElementById("descriptor");
    if (!textarea) return;
    event.preventDefault();
    var line = parseInt(link.getAttribute("data-goto-line"), 10) || 1;
    var column = parseInt(link.getAttribute("data-goto-column"), 10) || 1;
    var lines = textarea.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    var text = lines[Math.min(line, lines.length) - 1] || "";
    textarea.focus();
    textarea.setSelectionRange(start + Math.min(column - 1, text.length), start + text.length);
    var height = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
    textarea.scrollTop = Math.max(0, (line - 4) * height);
    markGutter(textarea);
  });

  // On the search page the top bar's box searches as you type (results swap in place).
  var timer = null;
  document.addEventListener("input", function (event) {
    if (!event.target || event.target.id !== "global-search" || !window.htmx) return;
    var results = document.getElementById("search-results");
    if (!results) return;
    clearTimeout(timer);
    timer = setTimeout(function () {
      var params = new URLSearchParams();
      var query = event.target.value.trim();
      if (query) params.set("q", query);
      var kind = results.getAttribute("data-search-kind");
      if (kind && query) params.set("kind", kind);
      var url = "/search" + (params.toString() ? "?" + params.toString() : "");
      window.htmx.ajax("GET", url, { target: "#search-results", swap: "innerHTML" });
      history.replaceState(null, "", url);
    }, 250);
  });
})();
