/* Photos from a phone's camera are 3–8 MB; on a village's mobile signal that is minutes. Before the
   form is sent, shrink each chosen photo to at most data-resize pixels on its long side as JPEG.
   Without this script (or in an old browser) the original file is sent and the server checks it. */
(function () {
  "use strict";
  if (!window.DataTransfer || !HTMLCanvasElement.prototype.toBlob) return;
  function shrink(input) {
    var file = input.files && input.files[0];
    var max = parseInt(input.getAttribute("data-resize"), 10) || 1600;
    if (!file || !/^image\/(jpeg|png|webp)$/.test(file.type) || file.size < 400 * 1024) return;
    var url = URL.createObjectURL(file);
    var img = new Image();
    img.onload = function () {
      var scale = Math.min(1, max / Math.max(img.width, img.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(img.width * scale);
      canvas.height = Math.round(img.height * scale);
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      canvas.toBlob(function (blob) {
        if (!blob || blob.size >= file.size) return;
        var dt = new DataTransfer();
        dt.items.add(new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }));
        input.files = dt.files;
        var note = input.parentNode.querySelector(".resized");
        if (!note) { note = document.createElement("small"); note.className = "help resized"; input.parentNode.appendChild(note); }
        note.textContent = "照片已压缩：" + Math.round(file.size / 1024) + " KB → " + Math.round(blob.size / 1024) + " KB";
      }, "image/jpeg", 0.82);
    };
    img.src = url;
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("input[type=file][data-resize]")) shrink(e.target);
  });
  /* One tap sends once: a slow upload invites a second tap, which would report twice. */
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset.sent) { e.preventDefault(); return; }
    form.dataset.sent = "1";
    var b = form.querySelector("button[type=submit]");
    if (b) { b.dataset.label = b.textContent; b.disabled = true; b.textContent = "正在提交…"; }
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
      var b = form.querySelector("button[type=submit]");
      if (b && b.dataset.label) { b.disabled = false; b.textContent = b.dataset.label; }
    });
  });
})();
