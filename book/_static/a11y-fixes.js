// Accessibility fixes to the theme's markup, found by axe-core 4.14 in tests/site (WCAG 2.5.3
// "Label in Name", axe rule label-content-name-mismatch, serious): a control's accessible name
// must contain the text it shows, so that a speech-input user can say what they see.
// Each fix keeps the control's meaning; none hides anything from the tests.
(function () {
  function fix() {
    // Search field buttons (pydata-sphinx-theme) show "Search Ctrl+K" but are named "Search":
    // let the visible text name them. Icon-only search buttons (no text) keep their label.
    document.querySelectorAll(".search-button__button[aria-label]").forEach(function (button) {
      if ((button.textContent || "").trim()) button.removeAttribute("aria-label");
    });
    // The colour-mode button's icons carry titles ("Light", "Dark", "System Settings") that
    // count as its visible text, while the button is named "Color mode". The icons are
    // decorative (aria-hidden; the button's tooltip says "Color mode"): drop the titles, on the
    // <i> before Font Awesome turns it into an <svg>, and any <title> already in the <svg>.
    // If Font Awesome got there first, its <svg> has role="img" named by that <title>; without
    // the title it would be an unnamed image (axe svg-img-alt, serious): hide it as decorative.
    document.querySelectorAll(".theme-switch-button .theme-switch").forEach(function (icon) {
      if (icon.tagName.toLowerCase() === "i") icon.removeAttribute("title");
      icon.querySelectorAll("title").forEach(function (t) { t.remove(); });
      if (icon.tagName.toLowerCase() === "svg") {
        icon.removeAttribute("aria-labelledby");
        icon.setAttribute("aria-hidden", "true");
      }
    });
  }
  // The sidebar's toggle of a chapter with sections (the lesson) is a <summary> holding only a
  // chevron icon, so it has no name (axe summary-name, serious; pydata-sphinx-theme's
  // toctree markup, the one pytorch/pytorch_sphinx_theme#234 patches the same way): name it
  // after the chapter whose pages it shows or hides.
  function nameTocToggles() {
    document.querySelectorAll("nav li > details > summary").forEach(function (summary) {
      if ((summary.textContent || "").trim() || summary.hasAttribute("aria-label")) return;
      var link = summary.parentElement.parentElement.querySelector(":scope > a");
      summary.setAttribute("aria-label", "Pages of " + (link ? link.textContent.trim() : "this chapter"));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    nameTocToggles();
    fix();
    // Font Awesome swaps the icons in at its own pace: redo the fix when the buttons change.
    var observer = new MutationObserver(fix);
    document.querySelectorAll(".theme-switch-button").forEach(function (button) {
      observer.observe(button, { childList: true, subtree: true });
    });
  });
})();
