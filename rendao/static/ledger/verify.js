/* rendao ledger inclusion check, in the browser, with WebCrypto only.
 *
 * For each element with [data-ledger-verify] (see templates/ledger/_verify_widget.html):
 * fetch the latest signed checkpoint, check its Ed25519 signature with the
 * verifier key given in the page, fetch an inclusion proof for the entry at the
 * checkpoint's size and check it (RFC 9162 §2.1.3.2) against the checkpoint's
 * root. Never claims more than was checked: where the browser has no Ed25519 in
 * WebCrypto, it says the signature was not checked.
 *
 * No inline script and no framework: loaded by src under the strict CSP; the
 * translated messages come from data-msg-* attributes.
 */
(function () {
  "use strict";
  // The widget includes this script; with two widgets on a page it runs once.
  if (window.rendaoLedgerVerify) return;
  window.rendaoLedgerVerify = true;

  var SIG_PREFIX = "\u2014 ";
  var enc = new TextEncoder();

  function b64decode(text) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
      throw new Error("not base64");
    }
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function concat(parts) {
    var len = 0, i;
    for (i = 0; i < parts.length; i++) len += parts[i].length;
    var out = new Uint8Array(len), pos = 0;
    for (i = 0; i < parts.length; i++) { out.set(parts[i], pos); pos += parts[i].length; }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  function leafHash(data) { return sha256(concat([new Uint8Array([0]), data])); }
  function nodeHash(l, r) { return sha256(concat([new Uint8Array([1]), l, r])); }

  // "name+hexid+base64(0x01 ‖ key)", with the id checked against the key.
  async function parseVerifierKey(text) {
    var parts = text.trim().split("+");
    if (parts.length < 3) throw new Error("malformed verifier key");
    var name = parts[0], hexId = parts[1], raw = b64decode(parts.slice(2).join("+"));
    if (raw.length !== 33 || raw[0] !== 1 || !/^[0-9a-f]{8}$/.test(hexId)) {
      throw new Error("not an Ed25519 verifier key");
    }
    var id = new Uint8Array(4);
    for (var i = 0; i < 4; i++) id[i] = parseInt(hexId.substr(i * 2, 2), 16);
    var expected = (await sha256(concat([enc.encode(name + "\n"), raw]))).slice(0, 4);
    if (!equal(id, expected)) throw new Error("the verifier key's id does not match its key");
    return { name: name, id: id, publicKey: raw.slice(1) };
  }

  function parseNote(data) {
    var split = data.lastIndexOf("\n\n");
    if (split < 0 || data[data.length - 1] !== "\n") throw new Error("malformed checkpoint note");
    var text = data.slice(0, split + 1);
    var sigs = data.slice(split + 2, -1).split("\n").map(function (line) {
      if (line.indexOf(SIG_PREFIX) !== 0) throw new Error("malformed signature line");
      var rest = line.slice(SIG_PREFIX.length), at = rest.lastIndexOf(" ");
      var raw = b64decode(rest.slice(at + 1));
      if (at < 1 || raw.length < 5) throw new Error("malformed signature line");
      return { name: rest.slice(0, at), id: raw.slice(0, 4), sig: raw.slice(4) };
    });
    var lines = text.split("\n");
    if (lines.length < 4 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) throw new Error("malformed checkpoint");
    var root = b64decode(lines[2]);
    if (root.length !== 32) throw new Error("malformed checkpoint root");
    return { text: text, sigs: sigs, origin: lines[0], size: BigInt(lines[1]), root: root };
  }

  // true: verified; null: this browser cannot check Ed25519; throws if it does not verify.
  async function checkSignature(note, key) {
    var sig = note.sigs.find(function (s) { return s.name === key.name && equal(s.id, key.id); });
    if (!sig) throw new Error("the checkpoint is not signed by " + key.name);
    var cryptoKey;
    try {
      cryptoKey = await crypto.subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      return null;
    }
    var ok = await crypto.subtle.verify({ name: "Ed25519" }, cryptoKey, sig.sig, enc.encode(note.text));
    if (!ok) throw new Error("the checkpoint's signature does not verify");
    return true;
  }

  // RFC 9162 §2.1.3.2, with BigInt so indexes past 2^32 work.
  async function verifyInclusion(index, size, leaf, proof, root) {
    if (index < 0n || index >= size) throw new Error("the entry is not covered by the checkpoint yet");
    var fn = index, sn = size - 1n, r = leaf;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (p.length !== 32 || sn === 0n) throw new Error("the inclusion proof has the wrong shape");
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n; sn >>= 1n;
    }
    if (sn !== 0n || !equal(r, root)) throw new Error("the inclusion proof does not verify");
  }

  async function getChecked(url, as) {
    var response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(url + ": HTTP " + response.status);
    return as === "json" ? response.json() : as === "bytes" ? new Uint8Array(await response.arrayBuffer()) : response;
  }

  // The checkpoint as JSON ({note, created_at}) or as the plain signed note.
  async function loadCheckpoint(url) {
    var response = await getChecked(url);
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("json") >= 0) {
      var obj = await response.json();
      return { note: String(obj.note), time: obj.created_at ? new Date(obj.created_at) : null };
    }
    var modified = response.headers.get("Last-Modified");
    return { note: await response.text(), time: modified ? new Date(modified) : null };
  }

  async function loadLeaf(el) {
    if (el.dataset.leaf) return b64decode(el.dataset.leaf);
    var response = await getChecked(el.dataset.leafUrl);
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("json") >= 0) return enc.encode(String((await response.json()).data));
    return new Uint8Array(await response.arrayBuffer());
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  async function check(el) {
    var status = el.querySelector("[data-ledger-status]") || el;
    var msg = el.dataset;
    status.textContent = msg.msgChecking || "Checking…";
    el.dataset.state = "checking";
    try {
      var key = await parseVerifierKey(el.dataset.key || "");
      var index = BigInt(el.dataset.index);
      var cp = await loadCheckpoint(el.dataset.checkpointUrl);
      var note = parseNote(cp.note);
      var signed = await checkSignature(note, key);
      var leaf = await leafHash(await loadLeaf(el));
      var sep = el.dataset.proofUrl.indexOf("?") >= 0 ? "&" : "?";
      var proofJson = await getChecked(
        el.dataset.proofUrl + sep + "index=" + index + "&size=" + note.size, "json");
      if (!Array.isArray(proofJson.hashes)) throw new Error("malformed proof");
      await verifyInclusion(index, note.size, leaf, proofJson.hashes.map(b64decode), note.root);
      var values = {
        size: String(note.size),
        time: cp.time && !isNaN(cp.time) ? cp.time.toLocaleString() : "?",
      };
      el.dataset.state = signed ? "verified" : "unsigned";
      status.textContent = fill(signed ? msg.msgVerified : msg.msgUnsigned, values);
    } catch (e) {
      el.dataset.state = "failed";
      status.textContent = fill(msg.msgFailed || "Verification failed: {reason}", {
        reason: e && e.message ? e.message : String(e),
      });
    }
  }

  function start() {
    if (!window.crypto || !crypto.subtle || typeof BigInt === "undefined") {
      document.querySelectorAll("[data-ledger-verify]").forEach(function (el) {
        el.dataset.state = "failed";
        (el.querySelector("[data-ledger-status]") || el).textContent = el.dataset.msgNoCrypto || "";
      });
      return;
    }
    document.querySelectorAll("[data-ledger-verify]").forEach(check);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

})();
