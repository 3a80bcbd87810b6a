// Passkeys (WebAuthn) for the forms marked data-passkey="create" (add one) or "get" (sign in), and
// for the step-up prompts marked data-passkey-step-up (a passkey instead of a code or password).
// Loaded only by the pages that have one. Without this script, or in a browser without WebAuthn,
// they stay hidden and the page's data-passkey-fallback text says why.
// A form's flow: POST for options (the server keeps the challenge in the session) -> the browser's
// navigator.credentials -> the answer as JSON in the form's "credential" field -> the form is
// submitted as any form is, and the server's page shows the outcome. When the server refuses the
// options (a bad name, say), the form is submitted as it is, so the page says why in its usual place.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch || window.portalPasskeys) {
    return;
  }
  window.portalPasskeys = true; // a page may name this script more than once (one per step-up prompt)

  // base64url (RFC 4648 section 5, no padding) <-> bytes, as WebAuthn's JSON forms use it.
  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) {
      text += String.fromCharCode(bytes[i]);
    }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var text = atob(base64);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) {
      bytes[i] = text.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: fromBase64url(item.id), transports: item.transports };
    });
  }

  // The server's JSON options, with the binary members made binary again.
  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = fromBase64url(json.challenge);
    options.user = Object.assign({}, json.user, { id: fromBase64url(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = fromBase64url(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  }

  // The browser's answer as the JSON the server reads (the WebAuthn Level 3 toJSON() shape).
  function credentialJSON(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      json.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : null;
    }
    return json;
  }

  function say(container, message) {
    // A form's own status line, not the one of a step-up prompt inside it.
    var status =
      container.querySelector(":scope > [data-passkey-status]") || container.querySelector("[data-passkey-status]");
    if (status) {
      status.textContent = message;
    }
  }

  function explain(error) {
    if (error && error.name === "NotAllowedError") {
      return "The passkey request was cancelled or timed out. Nothing was changed: try again when you are ready.";
    }
    if (error && error.name === "SecurityError") {
      return "Passkeys cannot work at this web address (it must be the site's own name, over https). Use your password.";
    }
    if (error && error.name === "InvalidStateError") {
      return "This device already holds a passkey for your account here.";
    }
    return "Your browser could not use a passkey just now. Try again, or use your password.";
  }

  function run(form) {
    var creating = form.getAttribute("data-passkey") === "create";
    var button = form.querySelector("button[type=submit], button:not([type])");
    var body = new FormData(form);
    body.delete("credential");
    if (button) {
      button.disabled = true;
    }
    say(form, creating ? "Follow your browser's steps to make a passkey." : "Follow your browser's steps to use your passkey.");
    fetch(form.getAttribute("data-passkey-options"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "x-csrftoken": body.get("_csrf_token") || "" },
    })
      .then(function (reply) {
        if (!reply.ok) {
          form.submit(); // the server's page says what is wrong, beside the field it is about
          return null;
        }
        return reply.json().then(function (options) {
          return creating
            ? navigator.credentials.create({ publicKey: creationOptions(options) })
            : navigator.credentials.get({ publicKey: requestOptions(options) });
        });
      })
      .then(function (credential) {
        if (credential) {
          form.querySelector("input[name=credential]").value = JSON.stringify(credentialJSON(credential));
          form.submit();
        }
      })
      .catch(function (error) {
        say(form, explain(error));
        if (button) {
          button.disabled = false;
          button.focus();
        }
      });
  }

  // A refusal the server explained (its JSON "message"), as opposed to the browser's own errors.
  function refused(reply) {
    return reply.json().then(function (body) {
      if (!reply.ok) {
        var error = new Error(body.message || "");
        error.name = "Refused";
        throw error;
      }
      return body;
    });
  }

  // A step-up prompt: the account's passkey proves it is the person, then the form that asked is
  // posted as it is (through htmx where the form uses it), its step now recent.
  function stepUp(box) {
    var form = box.closest("form");
    var button = box.querySelector("button");
    if (!form || !button) {
      return;
    }
    box.hidden = false;
    button.addEventListener("click", function () {
      var token = form.querySelector("input[name=_csrf_token]");
      var headers = { Accept: "application/json", "x-csrftoken": token ? token.value : "" };
      button.disabled = true;
      say(box, "Follow your browser's steps to use your passkey.");
      fetch(box.getAttribute("data-passkey-options"), { method: "POST", headers: headers, credentials: "same-origin" })
        .then(refused)
        .then(function (options) {
          return navigator.credentials.get({ publicKey: requestOptions(options) });
        })
        .then(function (credential) {
          var body = new FormData();
          body.append("credential", JSON.stringify(credentialJSON(credential)));
          return fetch(box.getAttribute("data-passkey-step-up"), {
            method: "POST",
            body: body,
            headers: headers,
            credentials: "same-origin",
          });
        })
        .then(refused)
        .then(function () {
          say(box, "Confirmed with your passkey.");
          if (form.requestSubmit) {
            form.requestSubmit();
          } else {
            form.submit();
          }
        })
        .catch(function (error) {
          say(box, error.name === "Refused" ? error.message : explain(error));
          button.disabled = false;
          button.focus();
        });
    });
  }

  function each(root, selector, apply) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) {
      found.unshift(root);
    }
    found.forEach(function (element) {
      if (!element.hasAttribute("data-passkey-ready")) {
        element.setAttribute("data-passkey-ready", "");
        apply(element);
      }
    });
    return found.length;
  }

  function enhance(root) {
    var forms = each(root, "form[data-passkey]", function (form) {
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        run(form);
      });
    });
    if (forms) {
      document.querySelectorAll("[data-passkey-fallback]").forEach(function (note) {
        note.hidden = true;
      });
    }
    each(root, "[data-passkey-step-up]", stepUp);
  }

  // Content htmx swaps in (a form answered with a step-up prompt, say) is enhanced as it arrives.
  document.addEventListener("htmx:load", function (event) {
    enhance(event.target);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      enhance(document);
    });
  } else {
    enhance(document);
  }
})();
