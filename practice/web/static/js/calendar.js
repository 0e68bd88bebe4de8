// The calendar page: EventCalendar's resource views over GET /api/sessions.
//
// The server renders the columns (clinicians or rooms) into #calendar-data;
// this script asks the API once for the events of the days shown. Times are
// the practice's wall-clock times: the API gives them with the practice's
// offset, and the calendar is handed them without it ("floating" times,
// which EventCalendar keeps in its Dates' local fields), so what is shown
// and what a drop sends back ("date" and "start_time", the practice's
// local time, which the server turns into an instant with its zone rules)
// do not depend on the browser's own zone.
//
// Drag (admin and front desk): the move is checked with the reschedule dry
// run, shown in a dialog ("this session" or "this and following"), then
// confirmed or put back (Cancel, Escape, or a refusal).
(function () {
  "use strict";

  const dataEl = document.getElementById("calendar-data");
  const el = document.getElementById("calendar");
  if (!dataEl || !el || !window.EventCalendar || !window.practiceApi) return;
  const cfg = JSON.parse(dataEl.textContent);
  const statusEl = document.getElementById("calendar-status");
  let ec = null;  // the calendar, once created (below)

  const STATUS_TEXT = {
    scheduled: "scheduled", attended: "attended", no_show: "no-show",
    cancelled_by_client: "cancelled by the client", cancelled_by_practice: "cancelled by the practice",
  };
  const COLOURS = {  // as app.css's --status-*: white text passes AA on each
    scheduled: "#1d4ed8", attended: "#166534", no_show: "#9a3412",
    cancelled_by_client: "#57534e", cancelled_by_practice: "#57534e",
  };
  const isCancelled = (s) => s.status.indexOf("cancelled") === 0;

  function say(text, kind) {
    statusEl.textContent = text || "";
    statusEl.className = "calendar-status" + (kind ? " calendar-status-" + kind : "");
  }

  // -- times ------------------------------------------------------------------------------
  // "2026-03-03T10:00:00+00:00" -> "2026-03-03T10:00:00": the practice's wall clock.
  const wallClock = (iso) => iso.slice(0, 19);
  // A calendar Date (its local fields hold the wall clock) -> {date, time}.
  const pad = (n) => String(n).padStart(2, "0");
  function localParts(d) {
    return {date: d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()),
      time: pad(d.getHours()) + ":" + pad(d.getMinutes())};
  }
  const DAY_FMT = new Intl.DateTimeFormat("en-GB", {
    weekday: "short", day: "numeric", month: "short", timeZone: "UTC"});
  function when(startIso, endIso) {
    const d = new Date(startIso.slice(0, 10) + "T00:00:00Z");
    return DAY_FMT.format(d) + ", " + startIso.slice(11, 16) + "–" + endIso.slice(11, 16);
  }

  // -- events -----------------------------------------------------------------------------
  function kOfN(s) {
    return (s.position ? s.position : "–") + "/" + s.count;
  }
  function initials(s) {
    return s.clients.map((c) => c.initials).join(" ");
  }
  function roomName(id) {
    const r = cfg.rooms[String(id)];
    return r ? r.name : "Room " + id;
  }
  function clinicianName(id) {
    return cfg.clinicians[String(id)] || "Clinician " + id;
  }
  function describe(s) {
    return [when(s.starts_at, s.ends_at), "session " + kOfN(s), initials(s) || "no client",
      cfg.by === "room" ? clinicianName(s.clinician_id) : roomName(s.room_id),
      STATUS_TEXT[s.status] || s.status].join(", ");
  }

  function toEvent(s) {
    const classes = ["session", "session-" + s.status];
    if (isCancelled(s)) classes.push("session-cancelled");
    return {
      id: String(s.id),
      resourceIds: [cfg.by === "room" ? s.room_id : s.clinician_id],
      start: wallClock(s.starts_at), end: wallClock(s.ends_at),
      title: kOfN(s) + " " + initials(s),
      classNames: classes,
      backgroundColor: COLOURS[s.status] || COLOURS.scheduled,
      // Only a scheduled session can move; the dry run checks the rest.
      editable: cfg.editable && s.status === "scheduled",
      extendedProps: {session: s},
    };
  }

  let firstDrawn = false;
  async function loadEvents() {
    // The same URL as the page's <link rel="preload">, so the first answer
    // is the one already on its way.
    const res = await window.practiceApi(cfg.events_url);
    if (!res.ok) {
      const msg = res.data && res.data.message ? res.data.message : "status " + res.status;
      say("The sessions could not be loaded (" + msg + "). The list of sessions below has " +
        "them.", "error");
      return [];
    }
    const items = res.data.items;
    showHiddenDaysWithSessions(items);
    if (!items.length) say("No sessions on the days shown.");
    return items.map(toEvent);
  }

  // Days nobody works are hidden; a session on one of them shows its day again.
  function showHiddenDaysWithSessions(items) {
    if (cfg.view !== "week" || !cfg.hidden_days.length) return;
    const hidden = new Set(cfg.hidden_days);
    let changed = false;
    for (const s of items) {
      const day = new Date(s.starts_at.slice(0, 10) + "T00:00:00Z").getUTCDay();
      if (hidden.delete(day)) changed = true;
    }
    if (changed) {
      cfg.hidden_days = Array.from(hidden);
      if (ec) ec.setOption("hiddenDays", cfg.hidden_days);
    }
  }

  function content(info) {
    const s = info.event.extendedProps.session;
    if (!s) return undefined;  // a drag preview: EventCalendar's default look
    const time = document.createElement("span");
    time.className = "ev-time";
    // The event's own start: while it is dragged, where it would go.
    time.textContent = localParts(info.event.start).time;
    const k = document.createElement("span");
    k.className = "ev-k";
    k.textContent = isCancelled(s) ? "cancelled" : kOfN(s);
    const who = document.createElement("span");
    who.className = "ev-who";
    who.textContent = initials(s);
    // For screen readers, the rest of what the colours and columns say.
    const more = document.createElement("span");
    more.className = "visually-hidden";
    more.textContent = ", " + describe(s);
    return {domNodes: [time, k, who, more]};
  }

  function didMount(info) {
    const s = info.event.extendedProps.session;
    if (!s) return;
    info.el.dataset.sessionId = String(s.id);
    if (!firstDrawn) {
      firstDrawn = true;
      el.dataset.ready = "true";
      if (window.performance && performance.mark) performance.mark("calendar:first-event");
    }
  }

  // -- the detail of a session ------------------------------------------------------------
  const detail = document.getElementById("detail-dialog");
  const detailBody = document.getElementById("detail-body");
  let returnFocusTo = null;

  function addRow(dl, term, value) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
    dl.append(dt, dd);
  }

  function showDetail(info) {
    const s = info.event.extendedProps.session;
    if (!s) return;
    returnFocusTo = info.el;
    document.getElementById("detail-title").textContent = "Session " + kOfN(s) +
      (initials(s) ? " · " + initials(s) : "");
    detailBody.replaceChildren();
    addRow(detailBody, "When", when(s.starts_at, s.ends_at));
    addRow(detailBody, "Clinician", clinicianName(s.clinician_id));
    addRow(detailBody, "Room", roomName(s.room_id));
    addRow(detailBody, "Status", STATUS_TEXT[s.status] || s.status);
    addRow(detailBody, "Phase", s.phase || "—");
    addRow(detailBody, "Session", s.position ? s.position + " of " + s.count
      : "not counted (" + (STATUS_TEXT[s.status] || s.status) + ")");
    if (cfg.show_names) {
      addRow(detailBody, s.clients.length > 1 ? "Clients" : "Client",
        s.clients.map((c) => c.name).join(", ") || "—");
    } else {
      addRow(detailBody, "Client initials", initials(s) || "—");
    }
    const link = document.getElementById("detail-course");
    link.href = cfg.course_url.replace("{id}", String(s.course_id));
    detail.showModal();
    document.getElementById("detail-title").focus();
  }
  document.getElementById("detail-close").addEventListener("click", () => detail.close());
  detail.addEventListener("close", () => {
    if (returnFocusTo && document.contains(returnFocusTo)) returnFocusTo.focus();
  });

  // -- moving a session -------------------------------------------------------------------
  const move = document.getElementById("move-dialog");
  const moveWhat = document.getElementById("move-what");
  const moveResult = document.getElementById("move-result");
  const confirmBtn = document.getElementById("move-confirm");
  let pending = null;  // {info, scope, body, seq, done}

  function moveBody(info, scope, dryRun) {
    const p = localParts(info.event.start);
    const body = {date: p.date, start_time: p.time, scope: scope};
    if (cfg.by === "room" && info.newResource) body.room_id = Number(info.newResource.id);
    if (dryRun) body.dry_run = true;
    return body;
  }
  function rescheduleUrl(s) {
    return cfg.reschedule_url.replace("{course_id}", String(s.course_id))
      .replace("{number}", String(s.number));
  }

  function onDrop(info) {
    const s = info.event.extendedProps.session;
    if (cfg.by === "clinician" && info.newResource) {
      info.revert();
      say("A session keeps its clinician: dropping it on " + info.newResource.title +
        "'s column does not move it, so it was put back. Drag it within its own column to " +
        "change the time, or show the calendar by room to change the room.", "error");
      return;
    }
    const to = localParts(info.event.start);
    pending = {info: info, session: s, scope: "this", seq: 0, done: false};
    returnFocusTo = null;
    const toRoom = cfg.by === "room" && info.newResource ? info.newResource.title : roomName(s.room_id);
    moveWhat.textContent = "Session " + kOfN(s) + (initials(s) ? " (" + initials(s) + ")" : "") +
      " of " + clinicianName(s.clinician_id) + ": from " + when(s.starts_at, s.ends_at) +
      " in " + roomName(s.room_id) + " to " + DAY_FMT.format(new Date(to.date + "T00:00:00Z")) +
      ", " + to.time + " in " + toRoom + ".";
    move.querySelector('input[value="this"]').checked = true;
    move.showModal();
    document.getElementById("move-title").focus();
    checkMove();
  }

  function checking() {
    confirmBtn.disabled = true;
    moveResult.replaceChildren(para("Checking the new time…", "muted"));
  }

  async function checkMove() {
    if (!pending) return;
    const seq = ++pending.seq;
    checking();
    const res = await window.practiceApi(rescheduleUrl(pending.session),
      {method: "POST", body: moveBody(pending.info, pending.scope, true)});
    if (!pending || seq !== pending.seq) return;  // a newer check, or closed
    if (res.ok) {
      showPreview(res.data);
    } else {
      showRefusal(res, false);
    }
  }

  function para(text, cls) {
    const p = document.createElement("p");
    p.textContent = text;
    if (cls) p.className = cls;
    return p;
  }
  function listOf(items) {
    const ul = document.createElement("ul");
    for (const item of items) {
      const li = document.createElement("li");
      if (item instanceof Node) li.appendChild(item); else li.textContent = item;
      ul.appendChild(li);
    }
    return ul;
  }
  function ruleText(v) {
    return v.message + " (rule " + v.rule + ", " + (v.plugin ? "plugin " + v.plugin : "core") + ")";
  }

  const CLASH_TEXT = {
    clinician: (c) => clinicianName(c.clinician_id) + " already has a session then",
    room: (c) => roomName(c.room_id) + " is in use then",
    client: () => "a client of this course has another session then",
    series: () => "another session of this move falls at the same time",
  };
  function clashText(c) {
    let t = (CLASH_TEXT[c.with] || (() => c.with))(c);
    const other = c.session || {};
    if (other.starts_at) t += " (course " + other.course_id + ", session " + other.number +
      ", " + when(other.starts_at, other.ends_at) + ")";
    return t;
  }
  function conflictItem(c) {
    const box = document.createElement("div");
    box.appendChild(para("Session " + c.number + " on " + when(c.starts_at, c.ends_at) +
      " in " + roomName(c.room_id) + " clashes:"));
    box.appendChild(listOf(c.clashes.map(clashText)));
    const sug = c.suggestions || {};
    const hints = [];
    if (sug.free_rooms && sug.free_rooms.length) {
      hints.push("free rooms at that time: " + sug.free_rooms.map((r) => r.name).join(", "));
    }
    if (sug.nearest_times && sug.nearest_times.length) {
      hints.push("nearest free times that day: " + sug.nearest_times.map((t) => t.start_time).join(", "));
    }
    if (hints.length) box.appendChild(para("Suggestions: " + hints.join("; ") + "."));
    return box;
  }

  function showPreview(p) {
    const out = [];
    if (p.ok) {
      const n = p.sessions.length;
      out.push(para(n > 1 ? "Free: nothing clashes. " + n + " sessions move."
        : "Free: nothing clashes.", "move-free"));
    } else {
      const box = document.createElement("div");
      box.className = "refusal";
      if (p.conflicts.length) {
        box.appendChild(para("It clashes with what is already booked:"));
        box.appendChild(listOf(p.conflicts.map(conflictItem)));
      }
      if (p.violations.length) {
        box.appendChild(para("It breaks a rule:"));
        box.appendChild(listOf(p.violations.map(ruleText)));
      }
      out.push(box);
    }
    if (p.warnings && p.warnings.length) {
      const w = document.createElement("div");
      w.className = "warnings";
      w.appendChild(para("Warnings:"));
      w.appendChild(listOf(p.warnings.map((v) => v.rule ? ruleText(v) : v.message)));
      out.push(w);
    }
    moveResult.replaceChildren(...out);
    confirmBtn.disabled = !p.ok;
  }

  // A 409/422 (or another error): its message and rules; the session goes back.
  function showRefusal(res, afterConfirm) {
    const d = res.data || {};
    const box = document.createElement("div");
    box.className = "refusal";
    box.setAttribute("role", "alert");
    box.appendChild(para((afterConfirm ? "Not moved: " : "") + (d.message || "status " + res.status)));
    if (d.violations && d.violations.length) box.appendChild(listOf(d.violations.map(ruleText)));
    if (d.conflicts && d.conflicts.length) box.appendChild(listOf(d.conflicts.map(conflictItem)));
    moveResult.replaceChildren(box);
    confirmBtn.disabled = true;
    if (afterConfirm && pending && !pending.done) {
      pending.info.revert();
      pending.done = true;
      say("The session was not moved: " + (d.message || "refused") + ".", "error");
    }
  }

  move.addEventListener("change", (e) => {
    if (e.target.name === "move-scope" && pending && !pending.done) {
      pending.scope = e.target.value;
      checkMove();
    }
  });

  confirmBtn.addEventListener("click", async () => {
    if (!pending || pending.done) return;
    const p = pending;
    confirmBtn.disabled = true;
    p.seq++;  // any check still running is stale now
    moveResult.replaceChildren(para("Moving…", "muted"));
    const res = await window.practiceApi(rescheduleUrl(p.session),
      {method: "POST", body: moveBody(p.info, p.scope, false)});
    if (res.ok) {
      p.done = true;
      const to = localParts(p.info.event.start);
      move.close();
      say("Moved session " + kOfN(p.session) + " to " +
        DAY_FMT.format(new Date(to.date + "T00:00:00Z")) + ", " + to.time +
        (p.scope === "following" ? ", with the sessions after it." : "."), "ok");
      loadEvents().then((events) => ec.setOption("events", events));
    } else {
      showRefusal(res, true);
    }
  });

  document.getElementById("move-cancel").addEventListener("click", () => move.close());
  // Escape, Cancel, or closing after a refusal: whatever was not moved goes back.
  move.addEventListener("close", () => {
    const p = pending;
    pending = null;
    if (p && !p.done) {
      p.info.revert();
      say("The session was not moved.");
    }
    // Back to the session (where it now is), or to the grid.
    const id = p && p.session ? String(p.session.id) : "";
    const back = id && el.querySelector('.ec-event[data-session-id="' + id + '"]');
    (back || el).focus();
  });

  // -- the calendar -----------------------------------------------------------------------
  // Ask for the events before building the grid (which takes a while when wide).
  say("Loading the sessions…");
  const firstLoad = loadEvents();

  // EventCalendar marks its grid up as an ARIA table whose body also holds
  // the events (buttons), which no table may contain. The grid is for eyes
  // and pointers; the list below is the accessible table of the same
  // sessions. So the grid's table roles go, and the events stay buttons.
  const TABLE_ROLES = '[role="table"],[role="rowgroup"],[role="row"],[role="columnheader"],' +
    '[role="cell"],[aria-colindex],[aria-colspan],[aria-rowindex]';
  function untable() {
    for (const node of el.querySelectorAll(TABLE_ROLES)) {
      if (node.getAttribute("role") !== "button") node.removeAttribute("role");
      node.removeAttribute("aria-colindex");
      node.removeAttribute("aria-colspan");
      node.removeAttribute("aria-rowindex");
    }
  }
  new MutationObserver(untable).observe(el, {subtree: true, childList: true,
    attributes: true, attributeFilter: ["role", "aria-colindex", "aria-colspan"]});

  const narrow = window.matchMedia("(max-width: 700px)").matches;
  const columns = cfg.resources.length * (cfg.view === "week" ? 7 - cfg.hidden_days.length : 1);
  const TIME = {hour: "2-digit", minute: "2-digit", hour12: false};
  el.tabIndex = -1;
  ec = EventCalendar.create(el, {
    view: cfg.view === "week" ? "resourceTimeGridWeek" : "resourceTimeGridDay",
    date: cfg.date,
    timeZone: "local",  // floating times stay as given; "today" is the browser's
    locale: "en-GB",
    firstDay: 1,
    headerToolbar: {start: "", center: "", end: ""},
    resources: cfg.resources,
    datesAboveResources: cfg.view === "week",
    hiddenDays: cfg.view === "week" ? cfg.hidden_days : [],
    slotMinTime: cfg.slot_min,
    slotMaxTime: cfg.slot_max,
    flexibleSlotTimeLimits: true,
    slotDuration: "00:30",
    snapDuration: "00:15",
    scrollTime: cfg.slot_min,
    slotLabelFormat: TIME,
    // A plain function: Intl's formatRange for each of a thousand events
    // was a third of the time to the first event drawn.
    eventTimeFormat: (start, end) => localParts(start).time + "–" + localParts(end).time,
    dayHeaderFormat: {weekday: "short", day: "numeric", month: "short"},
    allDaySlot: false,
    nowIndicator: false,
    height: narrow ? "70vh" : "78vh",
    // Wide grids (many columns, or a phone) scroll sideways instead of squeezing.
    columnWidth: (narrow && columns > 2) || columns > 24 ? (narrow ? "8.5rem" : "5.5rem") : undefined,
    editable: cfg.editable,
    eventDurationEditable: false,
    eventStartEditable: cfg.editable,
    events: [],
    eventContent: content,
    eventDidMount: didMount,
    eventClick: showDetail,
    eventDrop: onDrop,
  });

  firstLoad.then(showEvents);

  // A wide week (forty clinicians: a thousand sessions) is drawn in two
  // steps: first the columns the grid opens on (today's, or the first
  // day's, as many as fit), then, a frame later, the whole week, so what is
  // on screen shows without waiting for every column off screen.
  function showEvents(events) {
    if (statusEl.textContent === "Loading the sessions…") say("");
    const all = () => {
      ec.setOption("events", events);
      requestAnimationFrame(() => performance.mark && performance.mark("calendar:all-events"));
    };
    if (cfg.view !== "week" || events.length <= 300) {
      all();
      return;
    }
    // The grid opens on today's columns (or the first day's), leftmost first.
    const day = cfg.today >= cfg.from && cfg.today <= cfg.to ? cfg.today : cfg.from;
    const head = el.querySelector(".ec-col-head");
    const fit = Math.ceil(el.clientWidth / Math.max(40, head ? head.offsetWidth : 80)) + 1;
    const seen = new Set(cfg.resources.slice(0, fit).map((r) => r.id));
    ec.setOption("events", events.filter((e) => e.start.slice(0, 10) === day &&
      seen.has(e.resourceIds[0])));
    requestAnimationFrame(() => setTimeout(all, 0));
  }

  // With the calendar working, the list is there for whoever opens it.
  const list = document.getElementById("session-list");
  if (list) list.removeAttribute("open");
})();
