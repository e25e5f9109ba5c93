// Kith: the record's forms. Every form works without this file; it only
// saves typing: it marks what changed since the last follow-up, adds and
// removes medication rows in place, opens the folded section of a field an
// error links to, and on registration fills birth date and sex from an
// 18-character national ID and the consent date when consent is ticked.
(function () {
  "use strict";

  // valueOf reads a field of form by name as the server would: a radio
  // group's checked value, a checkbox group's checked values (sorted).
  function valueOf(form, name) {
    var els = form.querySelectorAll('[name="' + name + '"]');
    if (els.length === 0) {
      return null;
    }
    if (els[0].type === "checkbox") {
      var vs = [];
      els.forEach(function (e) { if (e.checked) { vs.push(e.value); } });
      return vs.sort().join(",");
    }
    if (els[0].type === "radio") {
      var v = "";
      els.forEach(function (e) { if (e.checked) { v = e.value; } });
      return v;
    }
    return els[0].value;
  }

  // markChanges marks each field whose value differs from last time.
  function markChanges(form, last) {
    Object.keys(last).forEach(function (name) {
      var was = last[name];
      if (Array.isArray(was)) {
        was = was.slice().sort().join(",");
      }
      var now = valueOf(form, name);
      if (now === null) {
        return;
      }
      var el = form.querySelector('[name="' + name + '"]');
      var box = el.closest("tr") || el.closest("fieldset.choices") || el.parentElement;
      box.classList.toggle("changed", now !== (was || ""));
    });
  }

  // renumber gives the medication rows consecutive numbers, as the server
  // reads them: medications[0].name, medications[1].name, …
  function renumber(form) {
    var rows = form.querySelectorAll(".medication-row");
    rows.forEach(function (row, i) {
      row.querySelectorAll("[name^='medications[']").forEach(function (el) {
        var field = el.name.replace(/^medications\[\d+\]\./, "");
        var name = "medications[" + i + "]." + field;
        var label = row.querySelector('label[for="' + el.id + '"]');
        el.name = name;
        el.id = "f-" + name;
        if (label) {
          label.htmlFor = el.id;
        }
      });
    });
    var count = form.querySelector('input[name="medication_rows"]');
    if (count) {
      count.value = String(rows.length);
    }
  }

  function medicationRows(form) {
    var add = form.querySelector("[data-add-row]");
    if (!add) {
      return;
    }
    var box = form.querySelector(".medication-rows");
    function wire(row) {
      var rm = row.querySelector("[data-remove-row]");
      rm.hidden = false;
      rm.addEventListener("click", function () {
        if (box.querySelectorAll(".medication-row").length > 1) {
          row.remove();
        } else {
          row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
        }
        renumber(form);
        form.dispatchEvent(new Event("input"));
      });
    }
    box.querySelectorAll(".medication-row").forEach(wire);
    add.hidden = false;
    add.addEventListener("click", function () {
      var rows = box.querySelectorAll(".medication-row");
      if (rows.length >= 20) {
        return;
      }
      var row = rows[rows.length - 1].cloneNode(true);
      row.querySelectorAll("input").forEach(function (i) {
        i.value = "";
        i.removeAttribute("aria-invalid");
      });
      row.querySelectorAll("small.error").forEach(function (s) { s.remove(); });
      box.appendChild(row);
      wire(row);
      renumber(form);
      row.querySelector("input").focus();
    });
  }

  // openTarget unfolds the section holding the field a link points to.
  function openTarget(hash) {
    if (!hash || hash.length < 2) {
      return;
    }
    var el = document.getElementById(decodeURIComponent(hash.slice(1)));
    var d = el && el.closest("details");
    if (d) {
      d.open = true;
    }
  }

  // fromNationalID fills birth date and sex from an 18-character national
  // ID (birth date in characters 7–14, sex by the parity of the 17th), as
  // the server does when they are left blank.
  function fromNationalID(form) {
    var nid = form.querySelector('input[name="national_id"]');
    var birth = form.querySelector('input[name="birth_date"]');
    if (!nid || !birth) {
      return;
    }
    nid.addEventListener("input", function () {
      var v = nid.value.trim().toUpperCase();
      if (!/^\d{17}[\dX]$/.test(v)) {
        return;
      }
      var date = v.slice(6, 10) + "-" + v.slice(10, 12) + "-" + v.slice(12, 14);
      if (isNaN(Date.parse(date))) {
        return;
      }
      birth.value = date;
      var sex = Number(v.charAt(16)) % 2 === 1 ? "male" : "female";
      var radio = form.querySelector('input[name="sex"][value="' + sex + '"]');
      if (radio) {
        radio.checked = true;
      }
    });
  }

  function consentDate(form) {
    var consent = form.querySelector('input[name="consent"]');
    var on = form.querySelector('input[name="consent_on"]');
    if (!consent || !on) {
      return;
    }
    consent.addEventListener("change", function () {
      if (consent.checked && on.value === "") {
        var d = new Date();
        var pad = function (n) { return (n < 10 ? "0" : "") + n; };
        on.value = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.followup").forEach(function (form) {
      medicationRows(form);
      if (form.dataset.last) {
        var last = JSON.parse(form.dataset.last);
        var mark = function () { markChanges(form, last); };
        form.addEventListener("input", mark);
        form.addEventListener("change", mark);
        mark();
      }
    });
    document.querySelectorAll("form.patient-form").forEach(function (form) {
      fromNationalID(form);
      consentDate(form);
    });
    document.querySelectorAll(".errors a[href^='#']").forEach(function (a) {
      a.addEventListener("click", function () { openTarget(a.getAttribute("href")); });
    });
    openTarget(window.location.hash);
  });
})();
