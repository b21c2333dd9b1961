// Watches the dashboard's event list while a dry-run FreezR decides the same kill scan after
// scan, and reports the lines about the process.
//   node events.cjs URL PID
const { launch, page_with_errors } = require("./browser.cjs");

(async () => {
  const [url, pid] = process.argv.slice(2);
  const errors = [];
  const browser = await launch();
  try {
    const page = await page_with_errors(browser, errors);
    await page.goto(url);
    await page.waitForFunction((p) => [...document.querySelectorAll("#events li")].some((li) =>
      li.textContent.includes(`pid ${p} `) && / — [3-9]\d* times since /.test(li.textContent)),
      pid, { timeout: 30000 });
    const lines = await page.evaluate((p) => [...document.querySelectorAll("#events li")]
      .map((li) => li.textContent).filter((t) => t.includes(`pid ${p} `)), pid);
    console.log(JSON.stringify({ ok: true, errors, lines }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e), errors }));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
