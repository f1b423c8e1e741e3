// Similar proposals while a title is typed (progressive enhancement: without this script,
// the form shows them on a confirmation step before sending).
(function () {
  "use strict";
  var form = document.querySelector("form[data-similar]");
  if (!form || !window.fetch) { return; }
  var title = form.querySelector("#title");
  var box = form.querySelector("#similaires-direct");
  var timer = null;
  var asked = "";

  function show(items) {
    box.textContent = "";
    if (!items.length) { return; }
    var heading = document.createElement("p");
    heading.className = "hint";
    heading.textContent = "Des propositions semblables existent : vous pouvez en soutenir une.";
    box.appendChild(heading);
    var list = document.createElement("ul");
    items.forEach(function (item) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.url;
      a.textContent = item.title;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" (" + item.status + ", " + item.supports +
        " soutien" + (item.supports > 1 ? "s" : "") + ")"));
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function ask() {
    var text = title.value.trim();
    if (text === asked) { return; }
    asked = text;
    if (text.length < 4) { show([]); return; }
    fetch(form.dataset.similar + "?titre=" + encodeURIComponent(text), {
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : { items: [] };
    }).then(function (data) {
      if (asked === text) { show(data.items || []); }
    }).catch(function () { /* the confirmation step still shows them */ });
  }

  title.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 350);
  });
})();
