// Search as you type on the search page, from the build's search-index.json.
// Without JavaScript the page already lists every page, and the forms still work (plain GET).
// Loaded with `defer` from the page's own origin: no inline script, so the strict CSP holds.
(function () {
  "use strict";

  var form = document.querySelector("form[data-index]");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var indexUrl = new URL(form.getAttribute("data-index"), document.baseURI);
  var pages = null;

  // Lower case, accents removed, split into words.
  function words(text) {
    return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .split(/[^a-z0-9]+/).filter(Boolean);
  }

  // The words of each field of a page, with the weight a match there counts: title words most.
  function fieldsOf(page) {
    return [[words(page.title), 8], [words(page.headings.join(" ")), 4], [words(page.tags.join(" ")), 4],
            [words(page.summary), 2], [words(page.section), 1]];
  }

  // Each query word must start a word somewhere in the page's entry.
  function score(fields, queryWords) {
    var total = 0;
    for (var q = 0; q < queryWords.length; q++) {
      var best = 0;
      for (var f = 0; f < fields.length; f++) {
        var fieldWords = fields[f][0];
        for (var w = 0; w < fieldWords.length; w++) {
          if (fieldWords[w].indexOf(queryWords[q]) === 0) { best = Math.max(best, fields[f][1]); break; }
        }
      }
      if (best === 0) return 0;
      total += best;
    }
    return total;
  }

  function matchingHeadings(page, queryWords) {
    return page.headings.filter(function (heading) {
      var headingWords = words(heading);
      return queryWords.some(function (q) {
        return headingWords.some(function (w) { return w.indexOf(q) === 0; });
      });
    });
  }

  function item(page, queryWords) {
    var li = document.createElement("li");
    var link = document.createElement("a");
    link.href = new URL(page.url, indexUrl).href;
    link.textContent = page.title;
    li.appendChild(link);
    if (page.section) {
      var section = document.createElement("span");
      section.className = "search-section";
      section.textContent = page.section;
      li.appendChild(section);
    }
    var headings = matchingHeadings(page, queryWords);
    if (headings.length) {
      var match = document.createElement("span");
      match.className = "search-match";
      match.textContent = "Sections: " + headings.join("; ");
      li.appendChild(match);
    }
    var summary = document.createElement("p");
    summary.textContent = page.summary;
    li.appendChild(summary);
    return li;
  }

  function show() {
    if (!pages) return;
    var query = input.value.trim();
    var queryWords = words(query);
    var found = pages.map(function (page, order) {
      return { page: page, order: order, score: queryWords.length ? score(page.fields, queryWords) : 1 };
    }).filter(function (hit) { return hit.score > 0; });
    found.sort(function (a, b) { return b.score - a.score || a.order - b.order; });
    var items = document.createDocumentFragment();
    found.forEach(function (hit) { items.appendChild(item(hit.page, queryWords)); });
    list.replaceChildren(items);
    if (!queryWords.length) {
      status.textContent = "All " + pages.length + " pages of this site are listed below.";
    } else if (!found.length) {
      status.textContent = "No pages match \u201c" + query + "\u201d. Try a different or shorter word.";
    } else {
      status.textContent = found.length + (found.length === 1 ? " page matches" : " pages match") +
        " \u201c" + query + "\u201d.";
    }
    var address = new URL(window.location.href);
    if (query) address.searchParams.set("q", query); else address.searchParams.delete("q");
    window.history.replaceState(null, "", address.href);
  }

  input.value = new URL(window.location.href).searchParams.get("q") || "";
  input.addEventListener("input", show);
  form.addEventListener("submit", function (event) { event.preventDefault(); show(); });
  fetch(indexUrl.href, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    })
    .then(function (index) {
      pages = index.pages;
      pages.forEach(function (page) { page.fields = fieldsOf(page); });
      show();
    })
    .catch(function () {
      status.textContent = "Search is not available right now; all pages are listed below.";
    });
})();
