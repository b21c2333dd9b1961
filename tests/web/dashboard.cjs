// Loads the dashboard in headless Chromium and checks what a person would see.
//   node dashboard.cjs URL SCREENSHOT_DIR RULE HOG_PID TOKEN
// Once the page has shown the hog and its chart, it asks FreezR to reload (the test has put a
// configuration that kills the hog in place by then), so the kill always comes after.
const { chromium } = require("playwright-core");

(async () => {
const [url, outDir, rule, hogPid, token] = process.argv.slice(2);
const errors = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let page;
const fail = async (msg) => {
  const timeline = page ? await page.evaluate(() =>
    [...document.querySelectorAll("#events li")].map((li) => li.textContent)).catch(() => []) : [];
  console.log(JSON.stringify({ ok: false, error: msg, console_errors: errors, timeline }));
  await browser.close();
  process.exit(1);
};
try {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => window.freezr && window.freezr.ticks >= 3, null, { timeout: 30000 });
  // The hog in the process table, with its rule.
  await page.waitForFunction((pid) => [...document.querySelectorAll("#procs tbody tr")]
    .some((tr) => tr.cells[0].textContent === pid), hogPid, { timeout: 30000 });
  const row = await page.evaluate((pid) => {
    const tr = [...document.querySelectorAll("#procs tbody tr")].find((t) => t.cells[0].textContent === pid);
    return [...tr.cells].map((c) => c.textContent);
  }, hogPid);
  // The hog's CPU in the chart data of its rule.
  await page.waitForFunction((r) => (window.freezr.live.cpu[r] || []).some((v) => v > 15), rule,
                             { timeout: 30000 });
  const live = await page.textContent("#conn");
  const reloaded = await page.evaluate(async (t) => (await fetch("/api/v1/reload", {
    method: "POST", headers: { Authorization: "Bearer " + t } })).status, token);
  if (reloaded !== 200) await fail("reload answered " + reloaded);
  // The kill appears in the timeline.
  await page.waitForFunction((pid) => [...document.querySelectorAll("#events li")]
    .some((li) => li.textContent.includes("kill") && li.textContent.includes("pid " + pid)),
    hogPid, { timeout: 40000 });
  await page.screenshot({ path: `${outDir}/dashboard.png`, fullPage: true });
  // The why view of the kill: the event's button opens every decision about the process.
  const killLine = page.locator("#events li", { hasText: `pid ${hogPid}` }).filter({ hasText: "kill" }).first();
  await killLine.getByRole("button", { name: new RegExp(`^why: pid ${hogPid}`) }).click();
  await page.waitForFunction(() => [...document.querySelectorAll("#why-list li")]
    .some((li) => li.textContent.includes(" decision")), null, { timeout: 30000 });
  const why = await page.evaluate(() => ({
    open: document.querySelector("#why").open, title: document.querySelector("#why-title").textContent,
    entries: [...document.querySelectorAll("#why-list li")].map((li) => li.textContent) }));
  await page.screenshot({ path: `${outDir}/dashboard-why.png` });
  await page.keyboard.press("Escape");
  const closed = await page.evaluate(() => !document.querySelector("#why").open);
  // Phone width: nothing spills sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: `${outDir}/dashboard-phone.png`, fullPage: true });
  const thawButtons = await page.locator("#frozen button").count();
  if (errors.length) await fail("console errors");
  console.log(JSON.stringify({ ok: true, row, live, overflow, thawButtons, why, closed }));
} catch (e) {
  await fail(String(e));
}
await browser.close();
})();
