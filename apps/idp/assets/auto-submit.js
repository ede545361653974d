// Submits forms marked data-auto-submit (logout confirmed by a valid id_token_hint).
document.addEventListener('DOMContentLoaded', function () {
  var form = document.querySelector('form[data-auto-submit]');
  if (form) form.submit();
});
