// The booking page's enhancements; the page works without them (plain
// forms and links). htmx swaps the working area in place; this script moves
// the focus where the server says the next step is, fills in a modality's
// defaults, and lists only the clinicians who deliver the chosen modality.
(function () {
  "use strict";

  // A refused form (422) or booking (409) comes back as the page with the
  // errors next to their fields: swap it in like any other answer.
  if (window.htmx) {
    htmx.config.responseHandling = [
      {code: "204", swap: false},
      {code: "[23]..", swap: true},
      {code: "40[39]|422", swap: true, error: false},
      {code: "[45]..", swap: false, error: true},
    ];
  }

  function focusNext(root) {
    const app = root && root.id === "booking-app" ? root : document.getElementById("booking-app");
    if (!app) return;
    const id = app.dataset.focus;
    const target = id && document.getElementById(id);
    if (target) {
      if (target.tagName === "SUMMARY" && target.parentElement) target.parentElement.open = true;
      target.focus({preventScroll: false});
    }
  }

  // The number fields a person has typed in keep their value when the
  // modality changes; the others take the new modality's defaults.
  const touched = new Set();

  function applyModality(app) {
    const modality = app.querySelector("#f-modality");
    if (!modality) return;
    const option = modality.selectedOptions[0];
    const fields = {session_count: "sessions", duration_minutes: "duration", interval_weeks: "interval"};
    for (const [name, key] of Object.entries(fields)) {
      const input = app.querySelector("#f-" + name);
      if (input && option && !touched.has(name) && option.dataset[key]) input.value = option.dataset[key];
    }
    filterClinicians(app);
  }

  function filterClinicians(app) {
    const modality = app.querySelector("#f-modality");
    const clinician = app.querySelector("#f-clinician");
    if (!modality || !clinician) return;
    const key = modality.value;
    for (const option of clinician.options) {
      if (option.dataset.any) continue;
      const delivers = key === "general" || (option.dataset.modalities || "").split(" ").includes(key);
      option.hidden = !delivers;
      option.disabled = !delivers;
      if (!delivers && option.selected) clinician.value = "";
    }
  }

  function wire(app) {
    if (!app || app.dataset.wired) return;
    app.dataset.wired = "1";
    for (const name of ["session_count", "duration_minutes", "interval_weeks"]) {
      const input = app.querySelector("#f-" + name);
      if (input) input.addEventListener("input", function () { touched.add(name); });
    }
    const modality = app.querySelector("#f-modality");
    if (modality) modality.addEventListener("change", function () { applyModality(app); });
    filterClinicians(app);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const app = document.getElementById("booking-app");
    wire(app);
    focusNext(app);
  });

  document.addEventListener("htmx:afterSettle", function (e) {
    const app = document.getElementById("booking-app");
    if (!app || app.dataset.wired) return; // only a new working area (not search results)
    touched.clear();
    wire(app);
    focusNext(app);
  });
})();
