// What forms do before they are sent, in the page's language (from their data-* attributes):
// ask before deleting, and refuse an image larger than the blog takes before uploading it, so
// that the form and what was typed in it stay. Scripts live in files because the
// Content-Security-Policy forbids inline ones.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches("form.confirm-delete") && !window.confirm(form.dataset.confirm || "Are you sure?")) {
    event.preventDefault();
  }
});

document.addEventListener("change", (event) => {
  const input = event.target;
  if (!input.matches('input[type="file"][data-max-bytes]')) {
    return;
  }
  const file = input.files[0];
  const tooLarge = file !== undefined && file.size > Number(input.dataset.maxBytes);
  // A custom validity message keeps the form from being sent while it is set.
  input.setCustomValidity(tooLarge ? input.dataset.tooLarge : "");
  input.reportValidity();
});
