// Takes screenshots of the main pages in light and dark mode, for looking at the UI and for the
// README. Usage: ROWBENCH_URL=http://127.0.0.1:3000 OUT=/tmp/shots node screenshots.mjs
import { chromium } from "@playwright/test";
import { mkdirSync } from "node:fs";

const base = process.env.ROWBENCH_URL ?? "http://127.0.0.1:3000";
const out = process.env.OUT ?? "screenshots";
mkdirSync(out, { recursive: true });

const pages = [
  ["home", "/"],
  ["wizard-upload", "/new/upload"],
  ["wizard-schema", "/new/schema"],
  ["not-found", "/no/such/page"],
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
for (const scheme of ["light", "dark"]) {
  for (const width of [1280, 420]) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width, height: 860 } });
    const page = await context.newPage();
    for (const [name, path] of pages) {
      await page.goto(base + path);
      await page.locator("main[data-hydrated=true]").waitFor({ state: "attached" });
      await page.screenshot({ path: `${out}/${name}-${scheme}-${width}.png`, fullPage: true });
    }
    await context.close();
  }
}
await browser.close();
