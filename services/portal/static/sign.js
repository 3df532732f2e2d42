// Signs a document in the browser: the employer's key is read from the chosen file (a PKCS#8 key in PEM, or a
// PKCS#12 file opened with its passphrase by node-forge) and used through WebCrypto; the key never leaves the
// browser. The certificate chain comes from the PEM certificate file, or else from the PKCS#12 file. The result is
// what the subsidy API verifies: a compact JWS (ES256) over the RFC 8785 canonical JSON of the document, with
// `x5c` and `sigT`.
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
  function binary(bytes) { // a byte string, as node-forge takes and gives DER
    var text = "";
    new Uint8Array(bytes).forEach(function (b) { text += String.fromCharCode(b); });
    return text;
  }
  function readAll(input) {
    return Promise.all(Array.prototype.map.call(input.files, function (file) { return file.text(); }));
  }
  function fail(message) {
    var box = document.getElementById("sign-error");
    box.querySelector("[data-message]").textContent = message;
    box.hidden = false;
    box.focus();
  }
  function fromPkcs12(bytes, passphrase) { // { key: base64 PKCS#8, chain: [base64 DER, the key's certificate first] }
    var forge = window.forge, oids = forge.pki.oids, p12;
    try {
      p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(binary(bytes)), false, passphrase);
    } catch (error) {
      throw new Error(form.dataset.msgPassphrase);
    }
    var keys = (p12.getBags({ bagType: oids.pkcs8ShroudedKeyBag })[oids.pkcs8ShroudedKeyBag] || [])
      .concat(p12.getBags({ bagType: oids.keyBag })[oids.keyBag] || []);
    if (keys.length !== 1 || !keys[0].asn1) { throw new Error(form.dataset.msgKey); }
    var certs = (p12.getBags({ bagType: oids.certBag })[oids.certBag] || []).map(function (bag) {
      var asn1 = bag.asn1 || forge.pki.certificateToAsn1(bag.cert);
      return { own: Boolean(bag.attributes.localKeyId), der: btoa(forge.asn1.toDer(asn1).getBytes()) };
    });
    certs.sort(function (a, b) { return Number(b.own) - Number(a.own); });
    return { key: btoa(forge.asn1.toDer(keys[0].asn1).getBytes()), chain: certs.map(function (c) { return c.der; }) };
  }
  function keyAndChain(keyInput, chainInput, passphrase) {
    return Promise.all([keyInput.files[0].arrayBuffer(), readAll(chainInput)]).then(function (read) {
      var keyText = new TextDecoder().decode(read[0]);
      var chain = pemBlocks(read[1].join("\n"), "CERTIFICATE");
      if (keyText.indexOf("-----BEGIN") === -1) {
        var opened = fromPkcs12(read[0], passphrase);
        return { key: opened.key, chain: chain.length ? chain : opened.chain };
      }
      var keys = pemBlocks(keyText, "PRIVATE KEY");
      if (keys.length !== 1) { throw new Error(form.dataset.msgKey); }
      return { key: keys[0], chain: chain };
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var keyInput = document.getElementById("key-file"), chainInput = document.getElementById("chain-file");
    if (!keyInput.files.length) { fail(form.dataset.msgMissing); return; }
    keyAndChain(keyInput, chainInput, document.getElementById("passphrase").value).then(function (found) {
      if (!found.chain.length) { throw new Error(form.dataset.msgChain); }
      return crypto.subtle.importKey("pkcs8", der(found.key), { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"])
        .catch(function () { throw new Error(form.dataset.msgKey); })
        .then(function (key) {
          var header = {
            alg: "ES256", typ: "application/jobbro-application+jws", x5c: found.chain,
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
