// Ask before deleting, in the page's language (the form's data-confirm); scripts live in files
// because the Content-Security-Policy forbids inline ones.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches("form.confirm-delete") && !window.confirm(form.dataset.confirm || "Are you sure?")) {
    event.preventDefault();
  }
});
