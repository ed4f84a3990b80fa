// The web client: a MUD client in the page, speaking telnet over a secure
// WebSocket (wss://<this host>/ws) exactly as any MUD client speaks it over
// TCP, so the game cannot tell it from one.
//
// Theory of operation.  Each binary WebSocket message is a piece of the
// driver's telnet stream; pieces may split anywhere, even inside an IAC
// sequence or a UTF-8 character, so both the telnet parser and the text
// decoder keep their state between messages.  A text message is the
// driver's own word about the connection (JSON: TLS protocol and cipher),
// never game text.  Text runs through a small ANSI SGR interpreter into
// styled spans appended to a role="log" live region: real DOM text that a
// screen reader announces and a player can select and copy.
//
// Negotiation answers what the driver offers: DO ECHO while it hides what
// the player types (the input becomes a password field), NAWS (the log's
// width and height in characters), TTYPE (client name, XTERM-256COLOR, then
// MTTS flags), CHARSET UTF-8, EOR and GMCP (Room.Info and Char.Vitals feed
// the panel).  Everything else, MCCP included, is refused.

"use strict";

(() => {
  // -- telnet ------------------------------------------------------------------
  const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;
  const GA = 249, EOR_MARK = 239;
  const ECHO = 1, SGA = 3, TTYPE = 24, EOR = 25, NAWS = 31, CHARSET = 42, GMCP = 201;
  const TTYPE_IS = 0, TTYPE_SEND = 1, CHARSET_REQUEST = 1, CHARSET_ACCEPTED = 2;
  // The options whose WILL we welcome (the driver does them), and whose DO we
  // agree to (we do them).  Anything else is refused once.
  const WELCOME = new Set([ECHO, SGA, EOR, GMCP, CHARSET]);
  const AGREE = new Set([NAWS, TTYPE, CHARSET]);

  // MTTS (https://tintin.mudhalla.net/protocols/mtts/): ANSI 1, UTF-8 4,
  // 256 colours 8, truecolour 256, and SSL 2048 when the page is secure.
  const MTTS = 1 | 4 | 8 | 256 | (location.protocol === "https:" ? 2048 : 0);
  const TERMINAL_TYPES = ["WEB-CLIENT", "XTERM-256COLOR", `MTTS ${MTTS}`];

  const $ = (id) => document.getElementById(id);
  const log = $("log"), input = $("command"), form = $("input-form"), label = $("input-label");
  const stateView = $("state"), securityView = $("security"), reconnectButton = $("reconnect");
  const encoder = new TextEncoder();
  const MAX_LINES = 2000;

  let socket = null;
  let decoder = new TextDecoder("utf-8");
  let telnetState = "data";   // data, iac, option, sb, sb-iac
  let command = 0;            // the WILL/WONT/DO/DONT being read
  let subnegotiation = [];
  const remote = new Map();   // options the driver does, as agreed
  const local = new Map();    // options we do, as agreed
  let ttypeIndex = 0;
  let passwordMode = false;
  let retryDelay = 1000, retryTimer = null, manualClose = false;

  // -- connection state, shown -------------------------------------------------
  function showState(state, text) {
    stateView.dataset.state = state;
    stateView.textContent = text;
    reconnectButton.hidden = state === "connected" || state === "connecting";
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    resetTelnet();
    showState("connecting", "Connecting…");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}/ws`);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      retryDelay = 1000;
      showState("connected", "Connected");
      input.focus();
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") {
        driverNotice(event.data);
      } else {
        receiveTelnet(new Uint8Array(event.data));
      }
    };
    socket.onclose = (event) => {
      socket = null;
      flushText(true);
      setPasswordMode(false);
      securityView.textContent = "";
      securityView.classList.remove("secure");
      if (event.code === 1008) {
        // The game's bans or limits refused this address: say why, and
        // leave trying again to the player.
        notice(event.reason || "The game refused the connection.");
        showState("closed", "Refused");
        return;
      }
      if (event.code === 1000 || manualClose) {
        // The game ended it (quit, or it hung up on purpose): stay away
        // until the player asks.
        manualClose = false;
        notice("Disconnected.");
        showState("closed", "Disconnected");
        return;
      }
      const seconds = Math.round(retryDelay / 1000);
      notice(`Connection lost (code ${event.code}); reconnecting in ${seconds} s.`);
      showState("waiting", `Connection lost: reconnecting in ${seconds} s`);
      retryTimer = setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    };
  }

  reconnectButton.addEventListener("click", () => {
    if (socket) {
      manualClose = true;
      socket.close(1000);
    }
    connect();
  });

  function driverNotice(text) {
    let info;
    try { info = JSON.parse(text); } catch (_) { return; }
    if (info.type !== "connection") return;
    if (info.secure && info.protocol) {
      securityView.textContent = `${info.protocol} · ${info.cipher}`;
      securityView.classList.add("secure");
    } else {
      securityView.textContent = location.protocol === "https:" ? "TLS by the proxy" : "not encrypted";
      securityView.classList.toggle("secure", location.protocol === "https:");
    }
  }

  // -- the telnet stream -------------------------------------------------------
  function resetTelnet() {
    decoder = new TextDecoder("utf-8");
    telnetState = "data";
    subnegotiation = [];
    remote.clear();
    local.clear();
    ttypeIndex = 0;
  }

  function send(bytes) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(bytes);
  }

  function sendIAC(...bytes) { send(new Uint8Array([IAC, ...bytes])); }

  function sendSubnegotiation(option, payload) {
    const escaped = [];
    for (const byte of payload) {
      escaped.push(byte);
      if (byte === IAC) escaped.push(IAC);
    }
    send(new Uint8Array([IAC, SB, option, ...escaped, IAC, SE]));
  }

  function receiveTelnet(bytes) {
    let text = [];
    for (const byte of bytes) {
      switch (telnetState) {
        case "data":
          if (byte === IAC) telnetState = "iac"; else text.push(byte);
          break;
        case "iac":
          if (byte === IAC) { text.push(IAC); telnetState = "data"; }
          else if (byte >= WILL && byte <= DONT) { command = byte; telnetState = "option"; }
          else if (byte === SB) { subnegotiation = []; telnetState = "sb"; }
          else {
            if (byte === GA || byte === EOR_MARK) { showText(text); text = []; }
            telnetState = "data";
          }
          break;
        case "option":
          showText(text); text = [];
          negotiate(command, byte);
          telnetState = "data";
          break;
        case "sb":
          if (byte === IAC) telnetState = "sb-iac"; else subnegotiation.push(byte);
          break;
        case "sb-iac":
          if (byte === SE) {
            showText(text); text = [];
            subnegotiated(subnegotiation);
            telnetState = "data";
          } else {
            if (byte === IAC) subnegotiation.push(IAC);
            telnetState = "sb";
          }
          break;
      }
    }
    showText(text);
  }

  function negotiate(verb, option) {
    if (verb === WILL || verb === WONT) {
      const on = verb === WILL;
      const agree = on && WELCOME.has(option);
      if (remote.has(option) && remote.get(option) === agree) return;  // no change: no answer
      remote.set(option, agree);
      sendIAC(agree ? DO : DONT, option);
      if (option === ECHO) setPasswordMode(agree);
      if (option === GMCP && agree) gmcpHello();
    } else {
      const on = verb === DO;
      const agree = on && AGREE.has(option);
      if (local.has(option) && local.get(option) === agree) return;
      local.set(option, agree);
      sendIAC(agree ? WILL : WONT, option);
      if (option === NAWS && agree) sendWindowSize();
    }
  }

  function subnegotiated(data) {
    const option = data[0];
    if (option === TTYPE && data[1] === TTYPE_SEND) {
      const name = TERMINAL_TYPES[Math.min(ttypeIndex, TERMINAL_TYPES.length - 1)];
      ttypeIndex += 1;
      sendSubnegotiation(TTYPE, [TTYPE_IS, ...encoder.encode(name)]);
    } else if (option === CHARSET && data[1] === CHARSET_REQUEST) {
      const offered = new TextDecoder().decode(new Uint8Array(data.slice(3)))
        .split(String.fromCharCode(data[2])).map((name) => name.toUpperCase());
      if (offered.includes("UTF-8")) {
        sendSubnegotiation(CHARSET, [CHARSET_ACCEPTED, ...encoder.encode("UTF-8")]);
      } else {
        sendSubnegotiation(CHARSET, [3]);  // REJECTED
      }
    } else if (option === GMCP) {
      const message = new TextDecoder().decode(new Uint8Array(data.slice(1)));
      const space = message.indexOf(" ");
      const name = space < 0 ? message : message.slice(0, space);
      let value = null;
      if (space >= 0) {
        try { value = JSON.parse(message.slice(space + 1)); } catch (_) { return; }
      }
      gmcpReceived(name, value);
    }
  }

  // -- NAWS: the log's size in characters ----------------------------------------
  function windowSize() {
    const probe = document.createElement("span");
    probe.textContent = "MMMMMMMMMM";
    probe.style.visibility = "hidden";
    probe.style.position = "absolute";
    log.appendChild(probe);
    const box = probe.getBoundingClientRect();
    probe.remove();
    const style = getComputedStyle(log);
    const inner = log.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const width = Math.max(20, Math.floor(inner / (box.width / 10 || 8)));
    const height = Math.max(5, Math.floor(log.clientHeight / (box.height || 16)));
    return [Math.min(width, 65535), Math.min(height, 65535)];
  }

  function sendWindowSize() {
    const [width, height] = windowSize();
    sendSubnegotiation(NAWS, [width >> 8, width & 255, height >> 8, height & 255]);
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (local.get(NAWS)) sendWindowSize(); }, 250);
  });

  // -- GMCP and the panel ----------------------------------------------------------
  function gmcpSend(name, value) {
    const text = value === undefined ? name : `${name} ${JSON.stringify(value)}`;
    sendSubnegotiation(GMCP, encoder.encode(text));
  }

  function gmcpHello() {
    gmcpSend("Core.Hello", { client: "Web client", version: "1.0" });
    gmcpSend("Core.Supports.Set", ["Core 1", "Char 1", "Char.Vitals 1", "Room 1", "Room.Info 1"]);
  }

  function gmcpReceived(name, value) {
    if (name === "Room.Info" && value && typeof value === "object") {
      $("room-name").textContent = value.name || "Somewhere";
      const exits = Array.isArray(value.exits) ? value.exits : Object.keys(value.exits || {});
      $("room-exits").textContent = exits.length ? exits.join(", ") : "none";
    } else if (name === "Char.Vitals" && value && typeof value === "object") {
      showVitals(value);
    } else if (name === "Char.Name" && value && value.name) {
      document.title = `${value.name}: playing in the browser`;
    }
  }

  function showVitals(vitals) {
    const box = $("vitals");
    box.replaceChildren();
    for (const [key, amount] of Object.entries(vitals)) {
      const most = vitals[`max${key}`];
      if (key.startsWith("max") || typeof amount !== "number") continue;
      const row = document.createElement("div");
      row.className = "vital";
      const name = document.createElement("span");
      name.textContent = key.toUpperCase();
      row.appendChild(name);
      const meter = document.createElement("meter");
      meter.min = 0;
      meter.max = typeof most === "number" && most > 0 ? most : Math.max(amount, 1);
      meter.value = amount;
      meter.setAttribute("aria-label", key);
      row.appendChild(meter);
      const figures = document.createElement("span");
      figures.className = "amount";
      figures.textContent = typeof most === "number" ? `${amount}/${most}` : String(amount);
      row.appendChild(figures);
      box.appendChild(row);
    }
  }

  // -- text, colours and the log ----------------------------------------------------
  const style = { fg: null, bg: null, bold: false, dim: false, italic: false,
                  underline: false, strike: false, inverse: false };
  let pendingEscape = "";
  let line = null;

  function resetStyle() {
    Object.assign(style, { fg: null, bg: null, bold: false, dim: false, italic: false,
                           underline: false, strike: false, inverse: false });
  }

  function showText(bytes) {
    if (!bytes.length) return;
    render(decoder.decode(new Uint8Array(bytes), { stream: true }));
  }

  function flushText(end) {
    if (end) render(decoder.decode());
  }

  // The 256-colour palette: 16 named, a 6x6x6 cube, 24 greys.
  function colour256(n) {
    if (n < 16) return n;
    if (n < 232) {
      const steps = [0, 95, 135, 175, 215, 255];
      n -= 16;
      return `rgb(${steps[Math.floor(n / 36)]}, ${steps[Math.floor(n / 6) % 6]}, ${steps[n % 6]})`;
    }
    const grey = 8 + (n - 232) * 10;
    return `rgb(${grey}, ${grey}, ${grey})`;
  }

  function applySGR(params) {
    const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => parseInt(p || "0", 10));
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i];
      if (code === 0) resetStyle();
      else if (code === 1) style.bold = true;
      else if (code === 2) style.dim = true;
      else if (code === 3) style.italic = true;
      else if (code === 4) style.underline = true;
      else if (code === 7) style.inverse = true;
      else if (code === 9) style.strike = true;
      else if (code === 22) style.bold = style.dim = false;
      else if (code === 23) style.italic = false;
      else if (code === 24) style.underline = false;
      else if (code === 27) style.inverse = false;
      else if (code === 29) style.strike = false;
      else if (code >= 30 && code <= 37) style.fg = code - 30;
      else if (code >= 90 && code <= 97) style.fg = code - 90 + 8;
      else if (code === 39) style.fg = null;
      else if (code >= 40 && code <= 47) style.bg = code - 40;
      else if (code >= 100 && code <= 107) style.bg = code - 100 + 8;
      else if (code === 49) style.bg = null;
      else if (code === 38 || code === 48) {
        let colour = null;
        if (codes[i + 1] === 5 && i + 2 < codes.length) {
          colour = colour256(codes[i + 2] & 255);
          i += 2;
        } else if (codes[i + 1] === 2 && i + 4 < codes.length) {
          const [r, g, b] = codes.slice(i + 2, i + 5).map((c) => Math.min(255, c));
          colour = `rgb(${r}, ${g}, ${b})`;
          i += 4;
        } else {
          break;
        }
        if (code === 38) style.fg = colour; else style.bg = colour;
      }
    }
  }

  // A complete escape sequence at the start of ``text``, or null; "partial"
  // if ``text`` could still become one when more arrives.
  const CSI = /^\x1b\[([0-9;:?]*)[ -\/]*([@-~])/;
  const CSI_START = /^\x1b(\[[0-9;:?]*[ -\/]*)?$/;

  function render(text) {
    text = pendingEscape + text;
    pendingEscape = "";
    let start = 0;
    while (start < text.length) {
      const escape = text.indexOf("\x1b", start);
      const end = escape < 0 ? text.length : escape;
      if (end > start) appendText(text.slice(start, end));
      if (escape < 0) break;
      const rest = text.slice(escape);
      const match = CSI.exec(rest);
      if (match) {
        if (match[2] === "m" && !match[1].startsWith("?")) applySGR(match[1]);
        start = escape + match[0].length;
      } else if (CSI_START.test(rest)) {
        pendingEscape = rest;  // the rest arrives in the next message
        break;
      } else {
        start = escape + (rest.length > 1 && rest[1] !== "[" ? 2 : 1);  // another escape: dropped
      }
    }
  }

  function styledNode(text) {
    let fg = style.fg, bg = style.bg;
    if (style.inverse) [fg, bg] = [bg === null ? 0 : bg, fg === null ? 7 : fg];
    const plain = fg === null && bg === null && !style.bold && !style.dim && !style.italic
      && !style.underline && !style.strike;
    if (plain) return document.createTextNode(text);
    const span = document.createElement("span");
    const classes = [];
    if (typeof fg === "number") classes.push(`fg${fg}`); else if (fg) span.style.color = fg;
    if (typeof bg === "number") classes.push(`bg${bg}`); else if (bg) span.style.backgroundColor = bg;
    for (const name of ["bold", "dim", "italic", "underline", "strike"]) {
      if (style[name]) classes.push(name);
    }
    if (classes.length) span.className = classes.join(" ");
    span.textContent = text;
    return span;
  }

  function newLine() {
    line = document.createElement("div");
    line.className = "line";
    log.appendChild(line);
    while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
  }

  function appendText(text, node) {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const parts = text.replace(/\r/g, "").split("\n");
    parts.forEach((part, index) => {
      if (index > 0 || line === null) newLine();
      if (part) line.appendChild(node ? node(part) : styledNode(part));
    });
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function notice(text) {
    appendText(`\n${text}\n`, (part) => {
      const span = document.createElement("span");
      span.className = "notice";
      span.textContent = part;
      return span;
    });
  }

  // -- the command line ----------------------------------------------------------
  const history = [];
  let historyIndex = 0;

  function setPasswordMode(on) {
    passwordMode = on;
    input.type = on ? "password" : "text";
    input.autocomplete = on ? "current-password" : "off";
    label.textContent = on ? "Password" : "Command";
    input.value = "";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      if (!socket) connect();
      return;
    }
    send(encoder.encode(`${text}\r\n`));
    if (passwordMode) return;  // never echoed, never remembered
    appendText(`${text}\n`, (part) => {
      const span = document.createElement("span");
      span.className = "echo";
      span.textContent = part;
      return span;
    });
    if (text && history[history.length - 1] !== text) history.push(text);
    if (history.length > 200) history.shift();
    historyIndex = history.length;
  });

  input.addEventListener("keydown", (event) => {
    if (passwordMode || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    event.preventDefault();
    historyIndex += event.key === "ArrowUp" ? -1 : 1;
    historyIndex = Math.max(0, Math.min(history.length, historyIndex));
    input.value = history[historyIndex] ?? "";
    input.setSelectionRange(input.value.length, input.value.length);
  });

  connect();
})();
