// Reads the dashboard's process row of a writer (once its disk cell has shown more than
// 5 MiB/s) and the header's thermal pills, in headless Chromium.
//   node disk_thermal.cjs URL PID
const { launch, page_with_errors } = require("./browser.cjs");

(async () => {
  const [url, pid] = process.argv.slice(2);
  const errors = [];
  const browser = await launch();
  try {
    const page = await page_with_errors(browser, errors);
    await page.goto(url);
    await page.waitForFunction((p) => [...document.querySelectorAll("#procs tbody tr")]
      .some((tr) => tr.cells[0].textContent === p && parseFloat(tr.cells[4].textContent) > 5),
      pid, { timeout: 30000 });
    const cells = await page.evaluate((p) => [...[...document.querySelectorAll("#procs tbody tr")]
      .find((tr) => tr.cells[0].textContent === p).cells].map((c) => c.textContent), pid);
    const header = await page.evaluate(() => document.querySelector("#procs thead tr").cells[4].textContent);
    await page.waitForFunction(() => /hot$/.test(document.querySelector("#thermal").textContent),
                               null, { timeout: 30000 });
    const thermal = await page.$$eval("#thermal .pill", (ps) => ps.map((p) => [p.textContent, p.className]));
    console.log(JSON.stringify({ ok: true, errors, cells, header, thermal }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e), errors }));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
