// Sends the CLI its token at once (the form works without JavaScript too).
(function () {
  "use strict";
  var form = document.getElementById("cli-handoff");
  if (form) form.submit();
})();
