// Switches the profile from the dashboard in headless Chromium: reads the header's profile,
// gives the page the token, picks another profile and waits for the header to show it.
//   node profile.cjs URL TOKEN PROFILE
const { launch, page_with_errors } = require("./browser.cjs");

(async () => {
  const [url, token, profile] = process.argv.slice(2);
  const errors = [];
  const browser = await launch();
  try {
    const page = await page_with_errors(browser, errors);
    await page.goto(url);
    await page.waitForSelector("#profile:not([hidden])", { timeout: 30000 });
    await page.waitForFunction(() => /^profile: /.test(document.querySelector("#profile").textContent),
                               null, { timeout: 30000 });
    const before = await page.textContent("#profile");
    const pickerBefore = await page.isVisible("#profile-box");
    await page.fill("#token", token);
    await page.dispatchEvent("#token", "change");
    await page.waitForSelector("#profile-box:not([hidden])", { timeout: 30000 });
    const offered = await page.$$eval("#profile-pick option", (os) => os.map((o) => o.value));
    await page.selectOption("#profile-pick", profile);
    await page.waitForFunction((p) => document.querySelector("#profile").textContent ===
                               `profile: ${p} (manual)`, profile, { timeout: 30000 });
    const after = await page.textContent("#profile");
    const message = await page.textContent("#frozen-msg");
    console.log(JSON.stringify({ ok: true, errors, before, after, offered, pickerBefore, message }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e), errors }));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
