// The column buttons write their placeholder at the template's cursor; without this script
// the user types it.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-insert]");
  const template = document.getElementById("template");
  if (!button || !template) return;
  const start = template.selectionStart ?? template.value.length;
  const end = template.selectionEnd ?? start;
  const text = button.dataset.insert;
  template.setRangeText(text, start, end, "end");
  template.focus();
  // The live counter listens for input.
  template.dispatchEvent(new Event("input", { bubbles: true }));
});
