// Loads the dashboard in headless Chromium and waits for a leak prediction about a process.
//   node predictions.cjs URL HOG_PID
const { launch, page_with_errors } = require("./browser.cjs");

(async () => {
const [url, hogPid] = process.argv.slice(2);
const errors = [];
const browser = await launch();
try {
  const page = await page_with_errors(browser, errors, { viewport: { width: 1280, height: 900 } });
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
