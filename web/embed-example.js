// The intranet page's own script: it only listens to <local-ocr>'s events.
import "./local-ocr-element.js";

const reader = document.getElementById("reader");
const status = document.getElementById("embed-status");

reader.addEventListener("result", (event) => {
  const page = event.detail;
  document.getElementById("claim-text").value = page.text;
  status.textContent = `Read with ${page.backend}: ${page.text.length} characters.`;
  document.documentElement.dataset.result = "ok";
});

reader.addEventListener("error", (event) => {
  status.textContent = `Could not read the receipt: ${event.detail.message}`;
  document.documentElement.dataset.result = "error";
});
