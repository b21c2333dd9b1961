// Opens the dashboard on a FreezR with history and reports what each view draws, the rules'
// colours in each, axe-core's findings in light and dark, and saves screenshots.
//   node history.cjs URL SCREENSHOT_DIR
const fs = require("fs");
const path = require("path");
const { launch, page_with_errors } = require("./browser.cjs");

const AXE = path.join(__dirname, "..", "..", "web", "node_modules", "axe-core", "axe.min.js");

// What each chart of the view shown holds: per series, its label, colour and how many points
// have a value; and the x scale's span.
function charts() {
  const out = {};
  for (const [id, { plot }] of Object.entries(window.freezr.charts)) {
    out[id] = {
      points: plot.data[0].length,
      span: plot.scales.x.max - plot.scales.x.min,
      first: plot.data[0][0],
      series: plot.series.slice(1).map((s, i) => ({
        label: s.label, color: typeof s.stroke === "function" ? s.stroke(plot, i + 1) : s.stroke,
        values: plot.data[i + 1].filter((v) => v != null).length,
      })),
    };
  }
  return out;
}

async function axe(page) {
  // Evaluated rather than added as a script tag, which the page's CSP rightly refuses.
  await page.evaluate(fs.readFileSync(AXE, "utf8"));
  const { violations, passes } = await page.evaluate(async () => {
    const r = await window.axe.run(document);
    return { violations: r.violations, passes: r.passes.length };
  });
  return { passes, serious: violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) })) };
}

(async () => {
  const [url, outDir] = process.argv.slice(2);
  const errors = [];
  const browser = await launch();
  try {
    const page = await page_with_errors(browser, errors, { viewport: { width: 1280, height: 900 } });
    const opened = Date.now() / 1000;
    await page.goto(url);
    await page.waitForFunction(() => window.freezr.backfilled && window.freezr.charts["cpu-chart"],
                               null, { timeout: 30000 });
    const views = { live: await page.evaluate(charts) };
    views.live.ticks = await page.evaluate(() => window.freezr.ticks);
    views.live.opened = opened;
    for (const [range, span] of [["1h", 3600], ["6h", 21600], ["24h", 86400]]) {
      await page.selectOption("#range", range);
      await page.waitForFunction(([r, s]) => {
        const plot = window.freezr.charts["cpu-chart"].plot;
        return window.freezr.range === r && plot.data[0].length > 0 &&
          Math.abs(plot.scales.x.max - plot.scales.x.min - s) < 1;
      }, [range, span], { timeout: 30000 });
      views[range] = await page.evaluate(charts);
    }
    await page.screenshot({ path: `${outDir}/history-light.png`, fullPage: true });
    const colorOf = await page.evaluate(() => ({ alpha: window.freezr.colorOf("alpha"),
                                                 beta: window.freezr.colorOf("beta") }));
    const light = await axe(page);
    await page.emulateMedia({ colorScheme: "dark" });
    await page.reload();
    await page.waitForFunction(() => window.freezr.backfilled && window.freezr.ticks >= 2, null,
                               { timeout: 30000 });
    await page.screenshot({ path: `${outDir}/history-dark.png`, fullPage: true });
    const dark = await axe(page);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.screenshot({ path: `${outDir}/history-phone.png`, fullPage: true });
    // Keyboard: the sort buttons are reachable and work with Enter.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.focus("#procs th[data-key=pid] button");
    await page.keyboard.press("Enter");
    const sorted = await page.getAttribute("#procs th[data-key=pid]", "aria-sort");
    console.log(JSON.stringify({ ok: true, errors, views, colorOf, light, dark, background,
                                 overflow, sorted }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e), errors }));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
