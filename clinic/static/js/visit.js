// The video visit: device check, waiting room and a 1:1 WebRTC call.
//
// Signalling goes through the clinic's websocket; media goes browser to browser. Negotiation
// follows the "perfect negotiation" pattern (the patient is the polite peer), so both sides may
// offer at the same moment. The remote stream is attached as soon as its track arrives: waiting
// for the track's "unmute" event can leave one side blank after an offer collision in Chromium.
(function () {
  "use strict";

  var root = document.getElementById("visit");
  if (!root) { return; }
  var role = root.dataset.role;
  var polite = role === "patient";
  var modeKey = "mendwell.visit.mode";

  function $(id) { return document.getElementById(id); }
  function setText(id, text) { var el = $(id); if (el) { el.textContent = text; } }

  function constraints() {
    var mode = sessionStorage.getItem(modeKey) || "video";
    return { audio: mode !== "none", video: mode === "video" };
  }

  // --- Device check -------------------------------------------------------------------------
  var checkStream = null;
  function stopCheck() {
    if (checkStream) { checkStream.getTracks().forEach(function (t) { t.stop(); }); checkStream = null; }
  }
  function meterFor(stream, meter) {
    if (!meter || !stream.getAudioTracks().length || !window.AudioContext) { return; }
    var ctx = new AudioContext();
    var analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(stream).connect(analyser);
    var data = new Uint8Array(analyser.fftSize);
    (function tick() {
      analyser.getByteTimeDomainData(data);
      var peak = 0;
      for (var i = 0; i < data.length; i++) { peak = Math.max(peak, Math.abs(data[i] - 128) / 128); }
      meter.value = peak;
      if (checkStream) { requestAnimationFrame(tick); } else { ctx.close(); }
    })();
  }
  function runCheck(mode) {
    stopCheck();
    sessionStorage.setItem(modeKey, mode);
    var help = $("device-help");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      setText("device-status", "This browser cannot use a camera here. Please use a current Chrome, Edge, Firefox or Safari.");
      return;
    }
    navigator.mediaDevices.getUserMedia({ audio: true, video: mode === "video" }).then(function (stream) {
      checkStream = stream;
      if (help) { help.hidden = true; }
      var preview = $("preview");
      if (preview) { preview.srcObject = mode === "video" ? stream : null; }
      meterFor(stream, $("mic-level"));
      setText("device-status", mode === "video"
        ? "Your camera and microphone work. Speak and watch the level move."
        : "Audio only: your microphone works. Your doctor will not see you.");
    }).catch(function (err) {
      if (help) { help.hidden = false; }
      setText("device-status", err && err.name === "NotFoundError"
        ? "No camera or microphone was found. Plug one in, or continue with audio only."
        : "The browser did not allow the camera or microphone.");
    });
  }
  var startCheck = $("start-check");
  if (startCheck) { startCheck.addEventListener("click", function () { runCheck("video"); }); }
  var audioOnly = $("audio-only");
  if (audioOnly) { audioOnly.addEventListener("click", function () { runCheck("audio"); }); }
  window.addEventListener("pagehide", stopCheck);

  // --- Waiting room and the clinician's view of it: poll until something changes -------------
  function poll(onChange) {
    var statusUrl = root.dataset.statusUrl;
    var last = null;
    function once() {
      fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { return; }
          var key = [s.window, s.waiting, s.admitted].join("|");
          if (last !== null && key !== last) { onChange(s); }
          last = key;
        })
        .catch(function () { /* try again at the next tick */ })
        .finally(function () { setTimeout(once, 1500); });
    }
    once();
  }
  if (!$("call") && ($("waiting-room") || $("patient-status"))) {
    poll(function () { location.reload(); });
  }

  var call = $("call");
  if (!call) { return; }

  // --- Timer --------------------------------------------------------------------------------
  var admittedAt = Date.parse(root.dataset.admittedAt);
  var duration = parseInt(root.dataset.duration, 10) || 1200;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(seconds) { return pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60); }
  function tick() {
    var elapsed = Math.max(0, Math.floor((Date.now() - admittedAt) / 1000));
    setText("timer", clock(elapsed) + " / " + clock(duration));
    var warning = $("time-warning");
    // A warning, never a cut-off: a clinician may need to finish a safety assessment.
    if (warning) { warning.hidden = elapsed < duration - 120; }
  }
  tick();
  setInterval(tick, 1000);

  if (root.dataset.provider === "jitsi") {
    var start = function () {
      if (!window.JitsiMeetExternalAPI) { setTimeout(start, 200); return; }
      new window.JitsiMeetExternalAPI(root.dataset.jitsiDomain, {
        roomName: root.dataset.jitsiRoom, jwt: root.dataset.jitsiJwt, parentNode: $("jitsi"),
      });
      setText("call-state", "");
    };
    start();
    return;
  }

  // --- The built-in call ----------------------------------------------------------------------
  var localVideo = $("local");
  var remoteVideo = $("remote");
  var localStream = null;
  var pc = null;
  var ws = null;
  var iceServers = [];
  var makingOffer = false;
  var ignoreOffer = false;
  var settingRemoteAnswer = false;
  var backoff = 500;
  var leaving = false;
  var everOpened = false;
  var refusals = 0;

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(message)); }
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
      if (state === "failed") { mine.restartIce(); }
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

  function onMessage(message) {
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

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + root.dataset.wsPath);
    ws.onopen = function () { everOpened = true; refusals = 0; backoff = 500; send({ kind: "hello" }); };
    ws.onmessage = function (event) {
      try { onMessage(JSON.parse(event.data)); } catch (e) { /* ignore a malformed message */ }
    };
    ws.onclose = function (event) {
      if (leaving) { return; }
      // The server refuses the handshake itself (the browser reports 1006): after a few refusals
      // without ever getting in, stop and say so rather than retrying for ever.
      if (!everOpened) { refusals += 1; }
      if (event.code === 4403 || event.code === 4404 || refusals >= 3) {
        setText("call-state", "This call is not open to you right now. Reload the page to try again.");
        return;
      }
      // A dropped network: try again, more slowly each time, and renegotiate when back.
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 8000);
    };
  }

  function startCall() {
    fetch(root.dataset.iceUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) { iceServers = body.iceServers || []; })
      .catch(function () { iceServers = []; })
      .then(function () {
        var wanted = constraints();
        if (!wanted.audio && !wanted.video) { return null; }
        return navigator.mediaDevices.getUserMedia(wanted).catch(function () {
          return navigator.mediaDevices.getUserMedia({ audio: true, video: false }).catch(function () { return null; });
        });
      })
      .then(function (stream) {
        localStream = stream;
        if (stream) { localVideo.srcObject = stream; }
        connect();
      });
  }

  $("toggle-mic").addEventListener("click", function () {
    if (!localStream) { return; }
    var on = false;
    localStream.getAudioTracks().forEach(function (t) { t.enabled = !t.enabled; on = t.enabled; });
    this.setAttribute("aria-pressed", String(!on));
    this.textContent = on ? "Mute" : "Unmute";
  });
  $("toggle-cam").addEventListener("click", function () {
    if (!localStream) { return; }
    var on = false;
    localStream.getVideoTracks().forEach(function (t) { t.enabled = !t.enabled; on = t.enabled; });
    this.setAttribute("aria-pressed", String(!on));
    this.textContent = on ? "Camera off" : "Camera on";
  });
  $("hang-up").addEventListener("click", function () {
    leaving = true;
    if (ws) { ws.close(); }
    if (pc) { pc.close(); }
    if (localStream) { localStream.getTracks().forEach(function (t) { t.stop(); }); }
    setText("call-state", "You left the call. Reload this page to join again.");
  });

  startCall();
})();
