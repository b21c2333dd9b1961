// A WebSocket to FreezR opened by its own dashboard page and by a page of another origin, in
// Chromium: the first opens, the second is refused (the browser sends its Origin).
//   node cross_origin.cjs FREEZR_URL OTHER_URL
const { launch, page_with_errors } = require("./browser.cjs");

async function socket_from(page, url) {
  return page.evaluate((target) => new Promise((resolve) => {
    const ws = new WebSocket(target, ["freezr"]);
    const timer = setTimeout(() => resolve("timeout"), 20000);
    ws.onopen = () => { clearTimeout(timer); ws.close(); resolve("open"); };
    ws.onerror = () => { clearTimeout(timer); resolve("refused"); };
  }), url);
}

(async () => {
  const [freezr, other] = [process.argv[2], process.argv[3]];
  const target = freezr.replace(/^http/, "ws") + "ws";
  const browser = await launch();
  const errors = [];
  try {
    const own = await page_with_errors(browser, errors);
    await own.goto(freezr);
    const foreign = await page_with_errors(browser, []);
    await foreign.goto(other);
    const result = { own: await socket_from(own, target), foreign: await socket_from(foreign, target) };
    console.log(JSON.stringify({ ok: true, ...result, errors }));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.log(JSON.stringify({ ok: false, error: String(e) })); process.exit(1); });
