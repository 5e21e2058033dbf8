// inputs.js: every way an image gets into the app. Each calls `add(files)` with an array of File.
//   drop (anywhere on the page, several files), paste (Ctrl/Cmd+V of an image or screenshot),
//   the drop zone (focusable: Enter or Space opens the picker), the picker button, files the OS
//   hands to the installed app (pwa.js's "localocr:open-files" event), and the camera
//   (a live getUserMedia snapshot where there is a camera API and a fine pointer; the
//   `<input capture>` photo picker on phones, or where the live camera is refused).

const $ = (id) => document.getElementById(id);

// JPEG quality of camera snapshots: 0.92 is the browsers' own default for image/jpeg, good enough
// for text and a fraction of the PNG size.
const SNAPSHOT_QUALITY = 0.92;

export function setupInputs({ add, say }) {
  const file = $("file");
  const capture = $("capture");
  const drop = $("drop");

  const takeFiles = (input) => {
    const files = Array.from(input.files || []);
    input.value = "";            // choosing the same file again must fire "change" again
    if (files.length) add(files);
  };
  file.addEventListener("change", () => takeFiles(file));
  capture.addEventListener("change", () => takeFiles(capture));
  $("pick").addEventListener("click", () => file.click());
  drop.addEventListener("click", () => file.click());
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      file.click();
    }
  });

  // Drag and drop anywhere on the page; the drop zone lights up while files are over the window.
  let depth = 0;
  const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth += 1;
    document.body.classList.add("dragging");
  });
  document.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) document.body.classList.remove("dragging");
  });
  document.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    document.body.classList.remove("dragging");
    const files = Array.from(event.dataTransfer.files || []);
    if (files.length) add(files);
  });

  document.addEventListener("paste", (event) => {
    const files = Array.from(event.clipboardData?.files || []);
    if (files.length) {
      event.preventDefault();
      add(files.map((f, i) => (f.name && f.name !== "image.png") ? f
        : new File([f], `pasted-${stamp()}${files.length > 1 ? `-${i + 1}` : ""}.${extension(f.type)}`, { type: f.type })));
    } else if (!isEditable(event.target)) {
      say("The clipboard holds no image. Copy an image or take a screenshot, then paste again.");
    }
  });

  // Files the OS opened with the installed app, or shared to it (pwa.js announces them).
  window.addEventListener("localocr:open-files", (event) => {
    const files = Array.from(event.detail?.files || []);
    if (!files.length) return;
    event.preventDefault();
    add(files);
  });

  setupCamera({ add, capture });
}

function isEditable(el) {
  return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}

function stamp() {
  return new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

function extension(type) {
  return ({ "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif" })[type] || "png";
}

function setupCamera({ add, capture }) {
  const dialog = $("camera-dialog");
  const video = $("camera-video");
  const error = $("camera-error");
  const snap = $("camera-snap");
  let stream = null;

  // Phones (coarse pointer) get the system camera through the capture picker: better than a video
  // element, with focus and flash. Elsewhere the live camera, when the browser has the API.
  const live = () => Boolean(navigator.mediaDevices?.getUserMedia) && !matchMedia("(pointer: coarse)").matches;

  const stop = () => {
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
  };

  $("camera").addEventListener("click", async () => {
    if (!live()) {
      capture.click();
      return;
    }
    error.hidden = true;
    snap.disabled = true;
    dialog.showModal();
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1920 }, height: { ideal: 1080 } }, audio: false });
      video.srcObject = stream;
      await video.play();
      snap.disabled = false;
      snap.focus();
    } catch (e) {
      error.textContent = `The camera could not be opened (${e.name === "NotAllowedError" ? "permission refused" : e.message || e.name}). ` +
        "You can still choose a photo from your files.";
      error.hidden = false;
    }
  });

  snap.addEventListener("click", () => {
    if (!video.videoWidth) return;
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob((blob) => {
      if (blob) add([new File([blob], `camera-${stamp()}.jpg`, { type: "image/jpeg" })]);
    }, "image/jpeg", SNAPSHOT_QUALITY);
    dialog.close();
  });
  $("camera-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", stop);
}
