// Small helpers for the panel; every form works without them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    button.dataset.label = button.dataset.label || button.textContent;
    button.textContent = button.dataset.copied || "✓";
    setTimeout(() => { button.textContent = button.dataset.label; }, 1500);
  });
});
