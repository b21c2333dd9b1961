// Headless Debian Chromium for the dashboard tests, and a page that collects console errors.
const { chromium } = require("playwright-core");

async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

// A new page whose console errors and uncaught exceptions are appended to errors.
async function page_with_errors(browser, errors, options = {}) {
  const page = await browser.newPage(options);
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  return page;
}

module.exports = { launch, page_with_errors };
