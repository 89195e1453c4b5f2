// Takes screenshots of every page in light and dark mode, wide and narrow, walking the wizard
// with a small realistic file, for looking at the UI and for the README.
// Usage: ROWBENCH_URL=http://127.0.0.1:3000 OUT=/tmp/shots [SCHEMES=light,dark] [WIDTHS=1280,390] node screenshots.mjs
import { chromium } from "@playwright/test";
import { mkdirSync } from "node:fs";

const base = process.env.ROWBENCH_URL ?? "http://127.0.0.1:3000";
const out = process.env.OUT ?? "screenshots";
mkdirSync(out, { recursive: true });

const samples = [
  'Refund for order 5521,"I was charged twice for my order, please refund one of the payments.",en',
  "App crashes on start,Since the last update the app closes as soon as I open it.,en",
  "Lieferung verspätet,Meine Bestellung ist seit zwei Wochen unterwegs.,de",
  'Great support,"Thanks, the agent solved my issue in minutes!",en',
  "Password reset,I never receive the reset e-mail.,en",
];
// Enough rows (at the demo's 150 ms each) for a batch page caught mid-run.
const csv = ["ticket,Subject,Customer message,language"]
  .concat(Array.from({ length: 60 }, (_, i) => `T-${1001 + i},${samples[i % samples.length]}`))
  .join("\n");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});

async function shot(page, name, scheme, width) {
  await page.locator("main[data-hydrated=true]").waitFor({ state: "attached" });
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${out}/${name}-${scheme}-${width}.png`, fullPage: true });
}

const schemes = (process.env.SCHEMES ?? "light,dark").split(",");
const widths = (process.env.WIDTHS ?? "1280,390").split(",").map(Number);
for (const scheme of schemes) {
  for (const width of widths) {
    const context = await browser.newContext({ colorScheme: scheme, viewport: { width, height: 860 } });
    const page = await context.newPage();
    await page.goto(base + "/");
    await shot(page, "home", scheme, width);
    await page.goto(base + "/new/upload");
    await page.locator("main[data-hydrated=true]").waitFor({ state: "attached" });
    const dropped = await page.evaluateHandle((text) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], "support-tickets.csv", { type: "text/csv" }));
      return transfer;
    }, csv);
    await page.locator(".dropzone").dispatchEvent("drop", { dataTransfer: dropped });
    await page.getByTestId("preview").waitFor();
    await shot(page, "wizard-upload", scheme, width);
    await page.goto(base + "/new/columns");
    await page.locator("main[data-hydrated=true]").waitFor({ state: "attached" });
    await page.getByLabel("language", { exact: true }).selectOption("param");
    await page.getByLabel("ticket", { exact: true }).selectOption("ignore");
    await page.getByLabel("Subject", { exact: true }).selectOption("include");
    await page.getByLabel("ticket identifies a row").check();
    await shot(page, "wizard-columns", scheme, width);
    await page.goto(base + "/new/prompt");
    await page.locator("main[data-hydrated=true]").waitFor({ state: "attached" });
    await page.getByLabel("User message").fill("Subject: {{ Subject }}\nMessage: {{ row[\"Customer message\"] }}\nReply language: {{ system_params.langage }}");
    await shot(page, "wizard-prompt-error", scheme, width);
    await page.getByLabel("User message").fill("Subject: {{ Subject }}\nMessage: {{ row[\"Customer message\"] }}\nReply language: {{ system_params.language }}");
    await shot(page, "wizard-prompt", scheme, width);
    await page.goto(base + "/new/schema");
    await page.locator("main[data-hydrated=true]").waitFor({ state: "attached" });
    await page.getByRole("button", { name: "Sentiment" }).click();
    await shot(page, "wizard-schema", scheme, width);
    await page.goto(base + "/new/review");
    await shot(page, "wizard-review", scheme, width);
    await page.getByTestId("start").click();
    await page.waitForURL(/\/batches\/\d+$/);
    await page.waitForTimeout(2500);
    await page.screenshot({ path: `${out}/batch-running-${scheme}-${width}.png`, fullPage: true });
    // What fits on one screen, as the README shows it.
    await page.screenshot({ path: `${out}/batch-running-top-${scheme}-${width}.png` });
    await page.getByTestId("batch-state").filter({ hasText: "Completed" }).waitFor({ timeout: 30000 });
    await page.getByTestId("queue-row").nth(2).click();
    await page.getByTestId("drill-cells").waitFor();
    await page.locator("details").first().evaluate((d) => (d.open = true));
    await shot(page, "batch-done-drill", scheme, width);
    await page.goto(base + "/no/such/page");
    await shot(page, "not-found", scheme, width);
    await context.close();
  }
}
await browser.close();
