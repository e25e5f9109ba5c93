// The public site's script. Pages work without it: a screening then shows
// all its questions at once. On a narrow screen (a phone) it shows one
// question at a time with Back and Next and a progress count, and moves on
// by itself when an answer is picked; on a wide screen all questions show.
// No inline script: the Content-Security-Policy forbids it.
(function () {
  "use strict";

  var narrow = window.matchMedia("(max-width: 600px)");

  function setup(form) {
    var items = Array.prototype.slice.call(form.querySelectorAll("fieldset.item"));
    var finish = form.querySelector(".finish");
    var stepper = form.querySelector(".stepper");
    var top = form.querySelector(".stepper-progress");
    if (!items.length || !finish || !stepper || !top) {
      return;
    }
    var progress = top.querySelector(".progress");
    var bar = top.querySelector("progress");
    var back = stepper.querySelector("button.back");
    var next = stepper.querySelector("button.next");
    var steps = items.concat([finish]);
    var format = form.getAttribute("data-progress") || "{n} / {total}";
    var done = form.getAttribute("data-done") || "";
    var current = 0;
    var timer = null;

    function answered(i) {
      return i >= items.length || items[i].querySelector("input:checked") !== null;
    }

    function count() {
      var n = 0;
      items.forEach(function (_, i) {
        if (answered(i)) {
          n++;
        }
      });
      return n;
    }

    function firstUnanswered() {
      for (var i = 0; i < items.length; i++) {
        if (!answered(i)) {
          return i;
        }
      }
      return items.length;
    }

    function show(i, focus) {
      current = Math.max(0, Math.min(i, steps.length - 1));
      steps.forEach(function (el, k) {
        el.hidden = k !== current;
      });
      if (current < items.length) {
        progress.textContent = format.replace("{n}", String(current + 1)).replace("{total}", String(items.length));
      } else {
        progress.textContent = done;
      }
      bar.value = count();
      back.disabled = current === 0;
      next.hidden = current >= items.length;
      next.disabled = !answered(current);
      if (focus) {
        steps[current].focus({ preventScroll: true });
        form.scrollIntoView({ block: "start" });
      }
    }

    function stepping(on) {
      clearTimeout(timer);
      form.classList.toggle("stepping", on);
      stepper.hidden = !on;
      top.hidden = !on;
      if (on) {
        show(firstUnanswered(), false);
      } else {
        steps.forEach(function (el) {
          el.hidden = false;
        });
      }
    }

    form.addEventListener("change", function (e) {
      if (!form.classList.contains("stepping")) {
        return;
      }
      var item = e.target.closest("fieldset.item");
      var i = items.indexOf(item);
      if (i < 0 || i !== current) {
        return;
      }
      next.disabled = false;
      bar.value = count();
      clearTimeout(timer);
      timer = setTimeout(function () {
        show(current + 1, true);
      }, 250);
    });
    back.addEventListener("click", function () {
      clearTimeout(timer);
      show(current - 1, true);
    });
    next.addEventListener("click", function () {
      clearTimeout(timer);
      if (answered(current)) {
        show(current + 1, true);
      }
    });
    var onChange = function (e) {
      stepping(e.matches);
    };
    if (narrow.addEventListener) {
      narrow.addEventListener("change", onChange);
    } else if (narrow.addListener) {
      narrow.addListener(onChange);
    }
    stepping(narrow.matches);
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form.screening"), setup);
  });
})();
