// Relations tab: draws the neighbourhood from graph.json with Cytoscape and applies the depth
// and relation-kind options in place. Without it the tab lists the same entities as links and
// the options form submits as a normal form.
(function () {
  "use strict";

  // htmx runs this file again after each swap of the tab; what must happen once lives on window.
  var state = window.pavedroadGraph || (window.pavedroadGraph = { loading: {}, listening: false });
  var LETTERS = {
    component: "C", api: "A", system: "S", domain: "D", resource: "R",
    group: "G", user: "U", location: "L", template: "T"
  };
  var LABEL_LENGTH = 24;

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

  // Colours come from app.css, so light and dark themes stay in one place.
  function palette(element) {
    var style = getComputedStyle(element);
    return function (name, fallback) { return style.getPropertyValue(name).trim() || fallback; };
  }

  function letterImage(letter) {
    var svg = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">' +
      '<text x="32" y="34" text-anchor="middle" dominant-baseline="middle" ' +
      'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif" ' +
      'font-size="30" font-weight="700" fill="#ffffff">' + letter + "</text></svg>";
    return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
  }

  function shorten(text) {
    return text.length > LABEL_LENGTH ? text.slice(0, LABEL_LENGTH - 1) + "…" : text;
  }

  var KIND_RANK = ["domain", "system", "component", "api", "resource", "group", "user", "location"];
  var RING_GAP = 130;   // pixels between rings, at least
  var SLOT = 30;        // pixels along the outer ring per node at the edge of the walk
  var STRETCH = 1.5;    // horizontal over vertical radius

  function rank(kind) {
    var index = KIND_RANK.indexOf(kind);
    return index === -1 ? KIND_RANK.length : index;
  }

  // A radial tree: the root in the middle, each ring one step further, and every node in the
  // sector of the node it was reached from, so what belongs together sits together. Sectors
  // are as wide as the number of nodes at the edge of the walk beneath them.
  function radialLayout(data) {
    var byId = {};
    var children = {};
    var root = null;
    data.nodes.forEach(function (node) {
      byId[node.id] = node;
      children[node.id] = [];
      if (node.depth === 0) root = node;
    });
    data.nodes.forEach(function (node) {
      if (node === root) return;
      children[node.via && byId[node.via] ? node.via : root.id].push(node);
    });
    Object.keys(children).forEach(function (id) {
      children[id].sort(function (a, b) {
        return rank(a.kind) - rank(b.kind) || a.title.localeCompare(b.title);
      });
    });
    var deepest = data.nodes.reduce(function (most, node) { return Math.max(most, node.depth); }, 0);
    // A node nearer the middle needs a wider angle for the same room on its smaller ring.
    function weigh(node) {
      var total = 0;
      children[node.id].forEach(function (child) { total += weigh(child); });
      node._weight = Math.max(node.depth ? deepest / node.depth : 1, total);
      return node._weight;
    }
    weigh(root);
    var outer = Math.max(RING_GAP * deepest + 30, (root._weight * SLOT) / (2 * Math.PI));
    var gap = deepest ? outer / deepest : 0;
    var step = (2 * Math.PI) / root._weight;
    var positions = {};
    var rim = 0;
    function place(node, start) {
      var angle = start + (node._weight * step) / 2;
      var radius = node.depth * gap;
      var side = "bottom";
      if (node.depth > 0 && node.depth === deepest) {
        // Labels point away from the middle. Where they sit side by side (top and bottom of a
        // crowded rim), every other node steps out so that neighbouring labels do not touch.
        var cos = Math.cos(angle);
        side = cos > 0.35 ? "right" : cos < -0.35 ? "left" : Math.sin(angle) < 0 ? "top" : "bottom";
        if ((side === "top" || side === "bottom") && step * radius < 3 * SLOT && rim++ % 2 === 1) radius += 30;
      }
      // Wider than tall: the box is, and labels run horizontally.
      positions[node.id] = { x: STRETCH * radius * Math.cos(angle), y: radius * Math.sin(angle), side: side };
      var offset = start;
      children[node.id].forEach(function (child) {
        place(child, offset);
        offset += child._weight * step;
      });
    }
    place(root, -Math.PI / 2 - (children[root.id].length ? (children[root.id][0]._weight * step) / 2 : 0));
    positions[root.id] = { x: 0, y: 0, side: "bottom" };
    return positions;
  }

  function elements(data, colour) {
    var positions = radialLayout(data);
    var nodes = data.nodes.map(function (node) {
      var kind = node.missing ? "missing" : node.kind;
      var at = positions[node.id];
      return {
        group: "nodes",
        position: { x: at.x, y: at.y },
        data: {
          id: node.id,
          label: shorten(node.title),
          title: node.title,
          kind: node.kind,
          type: node.type || "",
          depth: node.depth,
          fontSize: 11,
          url: node.url,
          colour: colour("--kind-" + kind, colour("--kind-other", "#64748b")),
          image: letterImage(LETTERS[node.kind] || node.kind.charAt(0).toUpperCase())
        },
        classes: "label-" + at.side + (node.depth === 0 ? " root" : "") + (node.missing ? " missing" : "")
      };
    });
    var via = {};
    data.nodes.forEach(function (node) { via[node.id] = node.via; });
    var edges = data.edges.map(function (edge, index) {
      // Edges along the walk carry the picture; the others are drawn faintly until hovered.
      var tree = via[edge.target] === edge.source || via[edge.source] === edge.target;
      return {
        group: "edges",
        data: {
          id: "e" + index,
          source: edge.source,
          target: edge.target,
          label: edge.label,
          colour: colour("--rel-" + edge.kind, "#9aa4b2")
        },
        classes: "rel-" + edge.kind + (tree ? " tree" : " cross")
      };
    });
    return nodes.concat(edges);
  }

  function styles(colour) {
    var text = colour("--text", "#1b1f24");
    var surface = colour("--surface", "#ffffff");
    var accent = colour("--accent", "#1f5fd1");
    return [
      { selector: "node", style: {
        "width": 30, "height": 30, "shape": "ellipse",
        "background-color": "data(colour)", "background-image": "data(image)",
        "background-fit": "contain", "background-clip": "none",
        "border-width": 2, "border-color": surface,
        "label": "data(label)", "color": text, "font-size": "data(fontSize)", "font-weight": 500,
        "font-family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif",
        "text-valign": "bottom", "text-halign": "center", "text-margin-y": 4,
        "text-background-color": surface, "text-background-opacity": 0.85,
        "text-background-padding": 2, "text-background-shape": "roundrectangle",
        "min-zoomed-font-size": 6, "overlay-opacity": 0
      } },
      { selector: "node.root", style: {
        "width": 50, "height": 50, "font-weight": 700,
        "border-width": 5, "border-color": accent, "border-opacity": 0.35, "z-index": 10
      } },
      { selector: "node.missing", style: {
        "border-style": "dashed", "border-color": colour("--muted", "#57606a"), "border-width": 1.5
      } },
      { selector: "node.label-right", style: { "text-valign": "center", "text-halign": "right", "text-margin-x": 5, "text-margin-y": 0 } },
      { selector: "node.label-left", style: { "text-valign": "center", "text-halign": "left", "text-margin-x": -5, "text-margin-y": 0 } },
      { selector: "node.label-top", style: { "text-valign": "top", "text-margin-y": -4 } },
      { selector: "edge", style: {
        "width": 1.4, "line-color": "data(colour)", "target-arrow-color": "data(colour)",
        "target-arrow-shape": "triangle", "arrow-scale": 0.8, "curve-style": "bezier",
        "opacity": 0.75, "font-size": 10, "color": text,
        "text-background-color": surface, "text-background-opacity": 0.9, "text-background-padding": 2,
        "text-rotation": "autorotate"
      } },
      { selector: "edge.cross", style: { "opacity": 0.22 } },
      { selector: "edge.rel-ownership", style: { "line-style": "dashed" } },
      { selector: "edge.rel-membership", style: { "line-style": "dotted" } },
      { selector: ".faded", style: { "opacity": 0.15, "text-opacity": 0.25 } },
      { selector: "node.focus", style: { "border-color": accent, "border-width": 3, "z-index": 20 } },
      { selector: "edge.focus", style: { "label": "data(label)", "width": 2.4, "opacity": 1, "z-index": 20 } }
    ];
  }

  function fit(cy) {
    cy.fit(undefined, 24);
    // A handful of nodes would otherwise be blown up to fill the box.
    if (cy.zoom() > 1.3) { cy.zoom(1.3); cy.center(); }
  }

  function draw(container, data) {
    var colour = palette(container);
    container.textContent = "";
    if (data.nodes.length > 60) container.classList.add("graph-large");
    var cy = window.cytoscape({
      container: container,
      elements: elements(data, colour),
      style: styles(colour),
      layout: { name: "preset", padding: 24 },
      minZoom: 0.15,
      maxZoom: 3,
      boxSelectionEnabled: false,
      autoungrabify: false
    });
    // The root and its direct neighbours keep legible labels however far the graph is zoomed
    // out; the many labels further out shrink with it and return when zoomed in (or on hover).
    function scaleLabels() {
      var zoom = cy.zoom();
      cy.batch(function () {
        cy.nodes().forEach(function (node) {
          var depth = node.data("depth");
          var size = depth === 0 ? Math.max(13, 11 / zoom) : depth === 1 ? Math.max(11, 8.5 / zoom) : 11;
          node.data("fontSize", size);
        });
      });
    }
    cy.on("zoom", scaleLabels);
    fit(cy);
    scaleLabels();
    var tip = document.createElement("div");
    tip.className = "graph-tip";
    tip.hidden = true;
    container.appendChild(tip);

    cy.on("mouseover", "node", function (event) {
      var node = event.target;
      var near = node.closedNeighborhood();
      cy.elements().not(near).addClass("faded");
      near.edges().addClass("focus");
      node.addClass("focus");
      var facts = [node.data("kind"), node.data("type")].filter(Boolean).join(" · ");
      tip.textContent = "";
      var strong = document.createElement("strong");
      strong.textContent = node.data("title");
      tip.appendChild(strong);
      tip.appendChild(document.createTextNode(" " + facts + (node.hasClass("missing") ? " · not in the catalog" : "")));
      var at = node.renderedPosition();
      tip.style.left = Math.round(at.x) + "px";
      tip.style.top = Math.round(at.y - node.renderedOuterHeight() / 2 - 8) + "px";
      tip.hidden = false;
      container.style.cursor = node.data("url") && !node.hasClass("root") ? "pointer" : "default";
    });
    cy.on("mouseout", "node", function () {
      cy.elements().removeClass("faded focus");
      tip.hidden = true;
      container.style.cursor = "default";
    });
    cy.on("tap", "node", function (event) {
      var node = event.target;
      if (node.data("url") && !node.hasClass("root")) window.location.assign(node.data("url"));
    });
    var frame = container.closest(".graph-frame");
    var fitButton = frame && frame.querySelector("[data-graph-fit]");
    if (fitButton) {
      fitButton.hidden = false;
      fitButton.onclick = function () { fit(cy); };
    }
    var legend = frame && frame.querySelector(".graph-legend");
    if (legend) legend.hidden = false;
    container._cy = cy;
  }

  function init(container) {
    container.setAttribute("data-graph-ready", "");
    container.hidden = false;
    var library = window.cytoscape ? Promise.resolve() : load(container.getAttribute("data-cytoscape-src"));
    var graph = fetch(container.getAttribute("data-graph-src"), { headers: { accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("graph.json answered " + response.status);
        return response.json();
      });
    Promise.all([library, graph]).then(function (results) { draw(container, results[1]); })
      .catch(function () {
        container.textContent = "";
        var status = document.createElement("p");
        status.className = "graph-status muted";
        status.textContent = "The graph could not be drawn; the related entities are listed below.";
        container.appendChild(status);
      });
  }

  function scan() {
    document.querySelectorAll("[data-graph-form]").forEach(function (form) { form.classList.add("is-live"); });
    document.querySelectorAll("[data-graph-src]:not([data-graph-ready])").forEach(init);
  }

  function optionsUrl(form) {
    var depth = form.querySelector("input[name=depth]:checked");
    var kinds = Array.prototype.map.call(
      form.querySelectorAll("input[type=checkbox][name=rel]:checked"), function (box) { return box.value; });
    return form.getAttribute("data-page-url") + "?tab=relations&depth=" +
      (depth ? depth.value : "2") + "&rel=" + kinds.join(",");
  }

  // The options apply as they change: the tab is fetched again with them and the address
  // updated, so the view can be shared.
  function apply(form, focusId) {
    var url = optionsUrl(form);
    if (!window.htmx) { window.location.assign(url); return; }
    window.htmx.ajax("GET", url, { target: "#tab-panel", swap: "innerHTML" }).then(function () {
      window.history.replaceState(window.history.state, "", url);
      var again = focusId && document.getElementById(focusId);
      if (again) again.focus();
    });
  }

  if (!state.listening) {
    state.listening = true;
    document.addEventListener("change", function (event) {
      var form = event.target.closest && event.target.closest("[data-graph-form]");
      if (form) apply(form, event.target.id);
    });
    document.addEventListener("submit", function (event) {
      var form = event.target.closest && event.target.closest("[data-graph-form]");
      if (!form) return;
      event.preventDefault();
      apply(form, null);
    });
    // A page restored from htmx's history is a snapshot of HTML: the graph must be drawn again.
    document.addEventListener("htmx:historyRestore", function () {
      document.querySelectorAll("[data-graph-src][data-graph-ready]").forEach(function (container) {
        container.removeAttribute("data-graph-ready");
      });
      scan();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
