// response_mode=form_post: send the result to the application at once, as Microsoft does.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("form-post");
  if (form) {
    form.submit();
  }
});
