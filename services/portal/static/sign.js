// Signs a document in the browser: the employer's PKCS#8 key (PEM) and certificate chain (PEM) are read from the
// chosen files and used through WebCrypto; the key never leaves the browser. The result is what the subsidy API
// verifies: a compact JWS (ES256) over the RFC 8785 canonical JSON of the document, with `x5c` and `sigT`.
(function () {
  "use strict";
  var form = document.getElementById("sign-form");
  if (!form || !window.crypto || !window.crypto.subtle) { return; }
  document.getElementById("sign-needs-script").hidden = true;
  form.hidden = false;

  function canonical(value) { // RFC 8785: sorted keys, ECMAScript number and string serialisation
    if (value === null || typeof value !== "object") { return JSON.stringify(value); }
    if (Array.isArray(value)) { return "[" + value.map(canonical).join(",") + "]"; }
    return "{" + Object.keys(value).sort().map(function (key) {
      return JSON.stringify(key) + ":" + canonical(value[key]);
    }).join(",") + "}";
  }
  function b64url(bytes) {
    var text = "";
    new Uint8Array(bytes).forEach(function (b) { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function utf8(text) { return new TextEncoder().encode(text); }
  function pemBlocks(text, label) {
    var pattern = new RegExp("-----BEGIN " + label + "-----([\\s\\S]*?)-----END " + label + "-----", "g");
    var found = [], match;
    while ((match = pattern.exec(text)) !== null) { found.push(match[1].replace(/\s+/g, "")); }
    return found;
  }
  function der(base64) { return Uint8Array.from(atob(base64), function (c) { return c.charCodeAt(0); }); }
  function readAll(input) {
    return Promise.all(Array.prototype.map.call(input.files, function (file) { return file.text(); }));
  }
  function fail(message) {
    var box = document.getElementById("sign-error");
    box.querySelector("[data-message]").textContent = message;
    box.hidden = false;
    box.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var keyInput = document.getElementById("key-file"), chainInput = document.getElementById("chain-file");
    if (!keyInput.files.length || !chainInput.files.length) { fail(form.dataset.msgMissing); return; }
    Promise.all([readAll(keyInput), readAll(chainInput)]).then(function (texts) {
      var keys = pemBlocks(texts[0].join("\n"), "PRIVATE KEY");
      var chain = pemBlocks(texts[1].join("\n"), "CERTIFICATE");
      if (keys.length !== 1) { throw new Error(form.dataset.msgKey); }
      if (!chain.length) { throw new Error(form.dataset.msgChain); }
      return crypto.subtle.importKey("pkcs8", der(keys[0]), { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"])
        .catch(function () { throw new Error(form.dataset.msgKey); })
        .then(function (key) {
          var header = {
            alg: "ES256", typ: "application/jobbro-application+jws", x5c: chain,
            sigT: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"), crit: ["sigT"]
          };
          var input = b64url(utf8(JSON.stringify(header))) + "." + b64url(utf8(canonical(JSON.parse(form.dataset.document))));
          return crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, utf8(input)).then(function (signature) {
            return input + "." + b64url(signature);
          });
        });
    }).then(function (jws) {
      document.getElementById("signature").value = jws;
      HTMLFormElement.prototype.submit.call(form);
    }).catch(function (error) { fail(error.message || form.dataset.msgKey); });
  });
})();
