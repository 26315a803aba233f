// The receipt's "save" buttons. Without this script the receipt still offers its text file to
// download (a plain link), and the browser's own menu prints it.
(function () {
  "use strict";
  var share = document.getElementById("share-receipt");
  var print = document.getElementById("print-receipt");
  var result = document.getElementById("share-result");
  if (print && window.print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
  if (!share) return;
  var text = share.getAttribute("data-text") || "";
  function say(message) { if (result) result.textContent = message; }
  function copy() {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text).then(
        function () { say(share.getAttribute("data-copied")); },
        function () { say(share.getAttribute("data-failed")); }
      );
    }
    // older browsers: select the text in a temporary field and copy it
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    say(share.getAttribute(ok ? "data-copied" : "data-failed"));
    return Promise.resolve();
  }
  share.hidden = false;
  share.addEventListener("click", function () {
    if (navigator.share) {
      navigator.share({ title: share.getAttribute("data-title") || "", text: text }).catch(function (err) {
        // the applicant closed the share sheet: nothing to do; any other failure: copy instead
        if (!err || err.name !== "AbortError") copy();
      });
      return;
    }
    copy();
  });
})();
