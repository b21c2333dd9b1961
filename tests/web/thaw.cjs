// Thaws a frozen process from the dashboard in headless Chromium: gives the page the token,
// clicks the process's thaw button, and waits until the Frozen panel no longer lists it.
//   node thaw.cjs URL TOKEN PID
const { launch, page_with_errors } = require("./browser.cjs");

(async () => {
  const [url, token, pid] = process.argv.slice(2);
  const errors = [];
  const browser = await launch();
  try {
    const page = await page_with_errors(browser, errors);
    await page.goto(url);
    const item = `#frozen li[data-pid="${pid}"]`;
    await page.waitForSelector(item, { timeout: 30000 });
    await page.fill("#token", token);
    await page.dispatchEvent("#token", "change");
    const button = page.getByRole("button", { name: `thaw pid ${pid}` });
    await button.waitFor({ timeout: 30000 });
    await page.waitForFunction((sel) => /left$/.test(document.querySelector(sel + " .left").textContent),
                               item, { timeout: 30000 });
    const shown = await page.textContent(item);
    await button.click();
    await page.waitForSelector(item, { state: "detached", timeout: 30000 });
    const message = await page.textContent("#frozen-msg");
    const stored = await page.evaluate(() => [sessionStorage.getItem("freezr-token"),
                                              localStorage.getItem("freezr-token")]);
    console.log(JSON.stringify({ ok: true, errors, shown, message, session: stored[0] === token,
                                 local: stored[1] !== null }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e), errors }));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
