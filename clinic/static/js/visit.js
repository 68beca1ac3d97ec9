// The video visit: the patient's device check and waiting room, the clinician's consult screen,
// and a 1:1 WebRTC call that starts in place, without a reload, when the patient is admitted.
//
// One websocket per page, open from the waiting room on. Before admission it carries only the
// visit's status (the server pushes it the moment the visit changes: arrived, blocked for
// location, admitted) and the patient's device check; once admitted, the WebRTC negotiation as
// well. When the socket is down the page polls the status instead. Media goes browser to
// browser. Negotiation follows the "perfect negotiation" pattern (the patient is the polite
// peer), so both sides may offer at the same moment. The remote stream is attached as soon as
// its track arrives: waiting for the track's "unmute" event can leave one side blank after an
// offer collision in Chromium.
(function () {
  "use strict";

  var root = document.getElementById("visit");
  if (!root) { return; }
  var role = root.dataset.role;
  var polite = role === "patient";
  var builtin = root.dataset.provider !== "jitsi";
  var modeKey = "mendwell.visit.mode";

  function $(id) { return document.getElementById(id); }
  function setText(id, text) { var el = $(id); if (el) { el.textContent = text; } }
  function show(el, yes) { if (el) { el.hidden = !yes; } }

  function wantedMode() { return sessionStorage.getItem(modeKey) || "video"; }

  // --- Local media: one stream for the device check, the self-view and the call -------------
  var localStream = null;
  var mediaMode = null; // "video", "audio" or "none" once known
  var lastMediaError = null;
  var meterStop = null;

  function attachLocal() {
    var hasVideo = !!(localStream && localStream.getVideoTracks().length);
    ["preview", "self-view", "local"].forEach(function (id) {
      var video = $(id);
      if (video && video.srcObject !== (hasVideo ? localStream : null)) {
        video.srcObject = hasVideo ? localStream : null;
      }
    });
  }

  function stopLocal() {
    if (meterStop) { meterStop(); meterStop = null; }
    if (localStream) { localStream.getTracks().forEach(function (t) { t.stop(); }); localStream = null; }
  }

  function meterFor(stream) {
    var meter = $("mic-level");
    if (!meter || !stream.getAudioTracks().length || !window.AudioContext) { return; }
    if (meterStop) { meterStop(); }
    var ctx = new AudioContext();
    var analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(stream).connect(analyser);
    var data = new Uint8Array(analyser.fftSize);
    var running = true;
    meterStop = function () { running = false; ctx.close(); };
    (function tick() {
      if (!running) { return; }
      analyser.getByteTimeDomainData(data);
      var peak = 0;
      for (var i = 0; i < data.length; i++) { peak = Math.max(peak, Math.abs(data[i] - 128) / 128); }
      meter.value = peak;
      requestAnimationFrame(tick);
    })();
  }

  // Resolves with the stream (or null: no camera or microphone), never rejects.
  function acquire(mode) {
    mode = mode || wantedMode();
    if (localStream && (mode !== "video" || localStream.getVideoTracks().length)) {
      return Promise.resolve(localStream);
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      mediaMode = "none";
      return Promise.resolve(null);
    }
    stopLocal();
    return navigator.mediaDevices.getUserMedia({ audio: true, video: mode === "video" })
      .catch(function (err) {
        if (mode !== "video") { throw err; }
        return navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      })
      .then(function (stream) {
        localStream = stream;
        mediaMode = stream.getVideoTracks().length ? "video" : "audio";
        attachLocal();
        meterFor(stream);
        return stream;
      })
      .catch(function (err) {
        mediaMode = "none";
        lastMediaError = err;
        return null;
      });
  }

  // The device check (the patient's step 1, the clinician's check before admitting).
  function runCheck(mode) {
    sessionStorage.setItem(modeKey, mode);
    if (localStream && mode === "video" && !localStream.getVideoTracks().length) { stopLocal(); }
    if (localStream && mode === "audio") { stopLocal(); }
    var help = $("device-help");
    acquire(mode).then(function (stream) {
      if (!stream) {
        show(help, true);
        setText("device-status", !navigator.mediaDevices ? "This browser cannot use a camera here. Please use a current Chrome, Edge, Firefox or Safari."
          : lastMediaError && lastMediaError.name === "NotFoundError" ? "No camera or microphone was found. Plug one in, or continue with audio only."
          : "The browser did not allow the camera or microphone.");
        return;
      }
      show(help, false);
      setText("device-status", stream.getVideoTracks().length
        ? "Your camera and microphone work. Speak and watch the level move."
        : "Audio only: your microphone works. " + (polite ? "Your doctor will not see you." : "The patient will not see you."));
      sendReady();
    });
  }
  var startCheck = $("start-check");
  if (startCheck) { startCheck.addEventListener("click", function () { runCheck("video"); }); }
  var audioOnly = $("audio-only");
  if (audioOnly) { audioOnly.addEventListener("click", function () { runCheck("audio"); }); }
  window.addEventListener("pagehide", function () { stopLocal(); });

  // Which screen is this? The patient's step 1 needs no socket; the rest of the visit does.
  var waitingRoom = $("waiting-room");
  var selfCheck = $("self-check");
  var call = $("call");
  if (!call) { return; }

  // --- The call's state ----------------------------------------------------------------------
  var inCall = false;
  var ended = false;
  var leaving = false;
  var media = null; // a promise of the local stream once the call is entered
  var admittedAt = Date.parse(root.dataset.admittedAt) || null;
  var duration = parseInt(root.dataset.duration, 10) || 1200;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(seconds) { return pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60); }
  var timerStarted = false;
  function tick() {
    if (!admittedAt || ended) { return; }
    var elapsed = Math.max(0, Math.floor((Date.now() - admittedAt) / 1000));
    setText("timer", clock(elapsed) + " / " + clock(duration));
    // A warning, never a cut-off: a clinician may need to finish a safety assessment.
    show($("time-warning"), elapsed >= duration - 120 && !ended);
  }
  function startTimer() {
    if (timerStarted) { return; }
    timerStarted = true;
    tick();
    setInterval(tick, 1000);
  }

  // --- The socket ----------------------------------------------------------------------------
  var ws = null;
  var wsOpen = false;
  var backoff = 500;
  var everOpened = false;
  var refusals = 0;
  var gaveUp = false;

  function send(message) {
    if (ws && wsOpen) { ws.send(JSON.stringify(message)); }
  }

  function connect() {
    gaveUp = false;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    ws = socket;
    socket.onopen = function () {
      if (ws !== socket) { return; }
      wsOpen = true; everOpened = true; refusals = 0; backoff = 500;
      stopPolling();
      show($("reconnect"), false);
      if (polite) { sendReady(); }
      if (inCall) { media.then(sayHello); }
    };
    socket.onmessage = function (event) {
      if (ws !== socket) { return; }
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      onMessage(message);
    };
    socket.onclose = function (event) {
      if (ws !== socket) { return; }
      wsOpen = false; ws = null;
      if (leaving) { return; }
      startPolling();
      // The server refuses the handshake itself (the browser reports 1006): after a few refusals
      // without ever getting in, stop and say so rather than retrying for ever.
      if (!everOpened) { refusals += 1; }
      if (event.code === 4403 || event.code === 4404 || refusals >= 3) {
        gaveUp = true;
        setText("call-state", "This call is not open to you right now.");
        show($("reconnect"), true);
        return;
      }
      if (inCall) {
        setText("call-state", "Connection lost. Trying again…");
        show($("reconnect"), true);
      }
      // A dropped network: try again, more slowly each time, and renegotiate when back.
      setTimeout(function () { if (!ws && !leaving && !gaveUp) { connect(); } }, backoff);
      backoff = Math.min(backoff * 2, 8000);
    };
  }

  // While the socket is down, the status comes from polling.
  var pollTimer = null;
  function startPolling() {
    if (pollTimer) { return; }
    pollTimer = setInterval(function () {
      fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) { if (s) { onStatus(s); } })
        .catch(function () { /* try again at the next tick */ });
    }, 2000);
  }
  function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }

  function onMessage(message) {
    var kind = message.kind;
    if (kind === "status") { onStatus(message); return; }
    if (kind === "ready") { onReady(message.media); return; }
    if (kind === "present") { if (polite) { sendReady(); } else { onPresence(true); } return; }
    if (kind === "gone") { if (!polite) { onPresence(false); } return; }
    if (!inCall && kind === "hello") { pendingHello = true; return; } // admitted, page not yet in the call
    if (!inCall || !builtin) { return; }
    // Negotiation waits for the local media, in arrival order.
    media.then(function () { signal(message); });
  }

  // --- Status: the waiting room, the clinician's panel, admission ---------------------------
  function onStatus(s) {
    if (role === "clinician") {
      clinicianStatus(s);
    } else if (!s.admitted && (inCall || !s.waiting)) {
      // Let in again after a change of place, or no longer waiting: the server's page knows.
      if (!ended) { location.reload(); }
      return;
    }
    if (s.admitted && !inCall && !ended) { enterCall(s.admitted_at); }
  }

  // The patient tells the clinician what their device check found.
  function sendReady() {
    if (polite && mediaMode && (waitingRoom || inCall)) { send({ kind: "ready", media: mediaMode }); }
  }

  var lastReady = null;
  var connected = null;
  function devicesText() {
    if (lastReady === "video") { return "camera and microphone working"; }
    if (lastReady === "audio") { return "microphone only, no camera"; }
    if (lastReady === "none") { return "no camera or microphone: call them on the call-back number"; }
    if (connected === false) { return "their page is closed"; }
    return "waiting for their browser…";
  }
  function onReady(value) { lastReady = value; connected = true; setText("patient-devices-text", devicesText()); }
  function onPresence(present) {
    connected = present;
    if (!present) { lastReady = null; }
    setText("patient-devices-text", devicesText());
  }

  var panelLoading = false;
  var panelAgain = false;
  function clinicianStatus(s) {
    var panel = $("patient-status");
    var shown = panel ? panel.dataset : {};
    var changed = (s.attested_at || "") !== (shown.attestedAt || "") || !!s.waiting !== !!shown.waiting ||
      !!s.blocked !== !!shown.blocked || !!s.admitted !== !!shown.admitted;
    show($("admit-form"), s.waiting && !inCall);
    setText("stage-note", s.waiting ? "Your patient is waiting. Admit them when you are ready."
      : s.blocked ? "The visit cannot start: you hold no license where the patient is."
      : s.admitted ? "" : "Waiting for your patient.");
    if (!s.admitted && inCall) { location.reload(); return; } // must be let in again
    if (changed) { refreshPanel(); }
  }

  function refreshPanel() {
    if (panelLoading) { panelAgain = true; return; }
    panelLoading = true;
    fetch(root.dataset.panelUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var panel = $("patient-status");
        if (!html || !panel) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#patient-status");
        if (fresh) { panel.replaceWith(fresh); setText("patient-devices-text", devicesText()); }
      })
      .catch(function () { /* the next status change fetches it again */ })
      .finally(function () {
        panelLoading = false;
        if (panelAgain) { panelAgain = false; refreshPanel(); }
      });
  }

  // Admitting from the consult screen: no reload, the call starts here.
  var admitForm = $("admit-form");
  if (admitForm) {
    admitForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = $("admit");
      if (button) { button.disabled = true; }
      fetch(admitForm.action, {
        method: "POST", body: new FormData(admitForm), credentials: "same-origin",
        headers: { Accept: "application/json" },
      }).then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      }).then(function (res) {
        if (res.ok) { enterCall(res.body.admitted_at); return; }
        if (button) { button.disabled = false; }
        setText("device-status", res.body.detail || "The patient could not be admitted.");
      }).catch(function () {
        admitForm.submit(); // signed out, or not JSON: the plain form shows why
      });
    });
  }

  // --- Entering and leaving the call ---------------------------------------------------------
  function enterCall(admittedIso) {
    if (inCall) { return; }
    inCall = true;
    ended = false;
    leaving = false;
    if (admittedIso) { admittedAt = Date.parse(admittedIso); }
    root.classList.add("is-admitted");
    root.classList.remove("is-ended");
    show(waitingRoom, false);
    show(selfCheck, false);
    show(call, true);
    show($("call-ended"), false);
    startTimer();
    // Jitsi opens the camera itself, in its own frame: let go of the waiting room's.
    if (!builtin) { stopLocal(); startJitsi(); media = Promise.resolve(null); return; }
    setText("call-state", "Connecting…");
    media = acquire().then(function (stream) {
      if (meterStop) { meterStop(); meterStop = null; }
      attachLocal();
      return stream;
    });
    media.then(function () {
      if (!ws) { connect(); return; }
      sayHello();
      if (pendingHello) { pendingHello = false; signal({ kind: "hello" }); }
    });
  }

  // Once per socket and call: "I am here", which starts the negotiation.
  var helloSocket = null;
  var pendingHello = false;
  function sayHello() {
    if (!inCall || !wsOpen || helloSocket === ws) { return; }
    helloSocket = ws;
    send({ kind: "hello" });
  }

  function hangUp() {
    leaving = true;
    inCall = false;
    ended = true;
    if (ws) { ws.close(); }
    ws = null; wsOpen = false;
    if (pc) { pc.close(); pc = null; }
    stopLocal();
    remoteVideo.srcObject = null;
    root.classList.add("is-ended");
    show($("time-warning"), false);
    show($("reconnect"), false);
    setText("call-state", "You left the call.");
    var length = admittedAt ? " after " + clock(Math.max(0, Math.floor((Date.now() - admittedAt) / 1000))) : "";
    setText("call-ended-text", "Call ended" + length + "." + (role === "clinician" ? " Your note is beside you: sign it when it is complete." : ""));
    show($("call-ended"), true);
    if (role === "clinician") {
      var note = $("note-title");
      if (note) { note.setAttribute("tabindex", "-1"); note.focus(); }
    }
  }

  function rejoin() {
    ended = false;
    everOpened = false; refusals = 0; backoff = 500;
    inCall = false;
    enterCall(null);
  }

  // A dropped call: reconnect here, never "reload this page".
  function reconnect() {
    show($("reconnect"), false);
    if (!ws) {
      everOpened = false; refusals = 0; backoff = 500;
      setText("call-state", "Reconnecting…");
      connect();
      return;
    }
    if (polite) {
      if (pc) { pc.close(); pc = null; }
      send({ kind: "hello" });
    } else {
      setText("call-state", "Reconnecting…");
      send({ kind: "reset" });
      newPeer();
    }
  }

  // --- Jitsi -----------------------------------------------------------------------------------
  function startJitsi() {
    if (!window.JitsiMeetExternalAPI) { setTimeout(startJitsi, 200); return; }
    new window.JitsiMeetExternalAPI(root.dataset.jitsiDomain, {
      roomName: root.dataset.jitsiRoom, jwt: root.dataset.jitsiJwt, parentNode: $("jitsi"),
    });
    setText("call-state", "");
  }

  // --- The built-in call -----------------------------------------------------------------------
  var localVideo = $("local");
  var remoteVideo = $("remote");
  var pc = null;
  var iceServers = [];
  var makingOffer = false;
  var ignoreOffer = false;
  var settingRemoteAnswer = false;
  var failedTimer = null;

  // The stage takes the shape of the other person's video (a phone sends portrait).
  function shapeStage() {
    var stage = remoteVideo && remoteVideo.parentNode;
    if (!stage || !remoteVideo.videoWidth || !remoteVideo.videoHeight) { return; }
    var ratio = remoteVideo.videoWidth / remoteVideo.videoHeight;
    stage.classList.toggle("is-wide", ratio >= 1.5);
    stage.classList.toggle("is-landscape", ratio >= 1 && ratio < 1.5);
  }
  if (remoteVideo) {
    remoteVideo.addEventListener("loadedmetadata", shapeStage);
    remoteVideo.addEventListener("resize", shapeStage);
  }

  function newPeer() {
    if (pc) { pc.close(); }
    makingOffer = false; ignoreOffer = false; settingRemoteAnswer = false;
    pc = new RTCPeerConnection({ iceServers: iceServers });
    var mine = pc;
    if (localStream) { localStream.getTracks().forEach(function (t) { mine.addTrack(t, localStream); }); }
    if (!localStream || !localStream.getVideoTracks().length) { mine.addTransceiver("video", { direction: "recvonly" }); }
    if (!localStream || !localStream.getAudioTracks().length) { mine.addTransceiver("audio", { direction: "recvonly" }); }
    mine.ontrack = function (event) {
      var stream = event.streams[0] || new MediaStream([event.track]);
      if (remoteVideo.srcObject !== stream) { remoteVideo.srcObject = stream; }
      var playing = remoteVideo.play();
      if (playing && playing.catch) { playing.catch(function () {}); }
    };
    mine.onicecandidate = function (event) {
      if (mine === pc) { send({ kind: "candidate", candidate: event.candidate }); }
    };
    mine.onnegotiationneeded = function () {
      if (mine !== pc) { return; }
      makingOffer = true;
      mine.setLocalDescription().then(function () {
        send({ kind: "description", description: mine.localDescription });
      }).catch(function (err) { console.warn("offer", err); }).finally(function () { makingOffer = false; });
    };
    mine.onconnectionstatechange = function () {
      if (mine !== pc) { return; }
      var state = mine.connectionState;
      setText("call-state", state === "connected" ? "" : state === "failed" ? "Reconnecting…" : state === "disconnected" ? "Connection unsteady…" : "Connecting…");
      if (failedTimer) { clearTimeout(failedTimer); failedTimer = null; }
      if (state === "connected") { show($("reconnect"), false); }
      if (state === "failed") { mine.restartIce(); }
      if (state === "failed" || state === "disconnected") {
        // Still not back after a few seconds: offer a reconnect by hand too.
        failedTimer = setTimeout(function () { if (mine === pc && inCall) { show($("reconnect"), true); } }, 4000);
      }
    };
    mine.oniceconnectionstatechange = function () {
      if (mine === pc && mine.iceConnectionState === "failed") { mine.restartIce(); }
    };
  }

  function onDescription(description) {
    var readyForOffer = !makingOffer && (pc.signalingState === "stable" || settingRemoteAnswer);
    var collision = description.type === "offer" && !readyForOffer;
    ignoreOffer = !polite && collision;
    if (ignoreOffer) { return Promise.resolve(); }
    settingRemoteAnswer = description.type === "answer";
    return pc.setRemoteDescription(description).then(function () {
      settingRemoteAnswer = false;
      if (description.type === "offer") {
        return pc.setLocalDescription().then(function () {
          send({ kind: "description", description: pc.localDescription });
        });
      }
    });
  }

  function signal(message) {
    if (!inCall) { return; }
    if (message.kind === "hello" || message.kind === "hello-ack") {
      // The other person is here (arrived, reloaded or reconnected). The clinician starts a
      // fresh connection and offers; the patient drops any old one and waits for that offer.
      if (!polite && (message.kind === "hello" || !pc)) {
        send({ kind: "reset" });
        newPeer();
      } else if (polite && message.kind === "hello" && pc) {
        pc.close();
        pc = null;
      }
      if (message.kind === "hello") { send({ kind: "hello-ack" }); }
    } else if (message.kind === "reset") {
      if (polite && pc) { pc.close(); pc = null; }
    } else if (message.kind === "description") {
      if (!pc) { newPeer(); }
      onDescription(message.description).catch(function (err) { console.warn("negotiation", err); });
    } else if (message.kind === "candidate" && pc) {
      pc.addIceCandidate(message.candidate).catch(function (err) { if (!ignoreOffer) { console.warn(err); } });
    } else if (message.kind === "bye") {
      setText("call-state", role === "patient" ? "Your doctor's connection dropped. Waiting for them to come back…" : "The patient's connection dropped. Waiting for them to come back…");
    }
  }

  function toggle(button, tracks, onLabel, offLabel) {
    if (!localStream) { return; }
    var on = false;
    tracks().forEach(function (t) { t.enabled = !t.enabled; on = t.enabled; });
    button.setAttribute("aria-pressed", String(!on));
    button.textContent = on ? onLabel : offLabel;
  }
  if (builtin) {
    $("toggle-mic").addEventListener("click", function () {
      toggle(this, function () { return localStream.getAudioTracks(); }, "Mute", "Unmute");
    });
    $("toggle-cam").addEventListener("click", function () {
      toggle(this, function () { return localStream.getVideoTracks(); }, "Camera off", "Camera on");
    });
    $("hang-up").addEventListener("click", hangUp);
    $("rejoin").addEventListener("click", rejoin);
    $("reconnect").addEventListener("click", reconnect);
  }

  // --- Start -----------------------------------------------------------------------------------
  // The waiting room and the consult screen get everything ready before admission: the ICE
  // servers, the socket, and (for the patient, who allowed it at the device check) the camera.
  fetch(root.dataset.iceUrl, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (body) { iceServers = body.iceServers || []; })
    .catch(function () { iceServers = []; });

  if (polite && waitingRoom && !waitingRoom.hidden) {
    acquire().then(function (stream) {
      setText("self-view-status", stream && stream.getVideoTracks().length
        ? "Your camera works: this is what your doctor will see."
        : stream ? "Audio only: your microphone works. Your doctor will not see you."
        : "Your camera and microphone are not available. Your doctor can still call you on the number you gave.");
      sendReady();
    });
  } else if (!polite && selfCheck && !selfCheck.hidden && navigator.permissions && navigator.permissions.query) {
    // The clinician's camera starts by itself when the browser already allows it.
    navigator.permissions.query({ name: "camera" }).then(function (p) {
      if (p.state === "granted") { runCheck(wantedMode()); }
    }).catch(function () { /* the button still works */ });
  }

  connect();
  if (admittedAt) { enterCall(null); }
  if (localVideo) { localVideo.muted = true; }
})();
