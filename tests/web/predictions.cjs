// Loads the dashboard in headless Chromium and waits for a leak prediction about a process.
//   node predictions.cjs URL HOG_PID
const { chromium } = require("playwright-core");

(async () => {
const [url, hogPid] = process.argv.slice(2);
const errors = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction((pid) => [...document.querySelectorAll("#predictions li")]
    .some((li) => li.textContent.includes("pid " + pid + " ")), hogPid, { timeout: 40000 });
  const text = await page.evaluate((pid) => [...document.querySelectorAll("#predictions li")]
    .find((li) => li.textContent.includes("pid " + pid + " ")).textContent, hogPid);
  const cls = await page.evaluate((pid) => [...document.querySelectorAll("#predictions li")]
    .find((li) => li.textContent.includes("pid " + pid + " ")).className, hogPid);
  console.log(JSON.stringify({ ok: errors.length === 0, text, cls, errors }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e), errors }));
  process.exitCode = 1;
}
await browser.close();
})();
