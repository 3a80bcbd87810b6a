// Passkeys (WebAuthn) for the forms marked data-passkey="create" (add one) or "get" (sign in).
// Loaded only by the pages that have such a form. Without this script, or in a browser without
// WebAuthn, those forms stay hidden and the page's data-passkey-fallback text says why.
// A form's flow: POST for options (the server keeps the challenge in the session) -> the browser's
// navigator.credentials -> the answer as JSON in the form's "credential" field -> the form is
// submitted as any form is, and the server's page shows the outcome. When the server refuses the
// options (a bad name, say), the form is submitted as it is, so the page says why in its usual place.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
    return;
  }

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

  function say(form, message) {
    var status = form.querySelector("[data-passkey-status]");
    if (status) {
      status.textContent = message;
    }
  }

  function explain(error) {
    if (error && error.name === "NotAllowedError") {
      return "The passkey request was cancelled or timed out. Nothing was changed: try again when you are ready.";
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

  function enhance() {
    var forms = document.querySelectorAll("form[data-passkey]");
    if (!forms.length) {
      return;
    }
    document.querySelectorAll("[data-passkey-fallback]").forEach(function (note) {
      note.hidden = true;
    });
    forms.forEach(function (form) {
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        run(form);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
