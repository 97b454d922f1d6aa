// Ask before deleting; scripts live in files because the Content-Security-Policy forbids inline ones.
document.addEventListener("submit", (event) => {
  if (event.target.matches("form.confirm-delete") && !window.confirm("Are you sure?")) {
    event.preventDefault();
  }
});
