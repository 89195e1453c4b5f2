// Shared test set-up: every page is checked for console errors (a hydration mismatch shows up
// there), and `waitForHydration` waits until the Leptos app in the browser has taken over.
import { test as base, expect, Page, APIRequestContext } from "@playwright/test";

export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() !== "error") return;
        // A page answered with 404 on purpose (or a sign-in form refused with 401, 422 or 429)
        // logs its own status, and an API refusal (4xx) is shown to the user by the page;
        // anything else is a fault.
        const url = msg.location().url;
        const ownNotFound = url === page.url() && /status of (401|404|422|429)/.test(msg.text());
        const apiRefusal = new URL(url, page.url()).pathname.startsWith("/api/") && /status of 4\d\d/.test(msg.text());
        if (!ownNotFound && !apiRefusal) errors.push(`${msg.text()} (${url})`);
      });
      page.on("pageerror", (err) => errors.push(err.message));
      await use(errors);
      expect(errors, "the browser console stays free of errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export async function waitForHydration(page: Page) {
  await expect(page.locator("main[data-hydrated=true]")).toBeAttached();
}

/// Drops a CSV file onto the upload step's drop zone, as a user dragging it in would.
export async function dropFile(page: Page, name: string, text: string) {
  const dropped = await page.evaluateHandle(
    ([n, t]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([t], n, { type: "text/csv" }));
      return transfer;
    },
    [name, text],
  );
  await page.locator(".dropzone").dispatchEvent("dragover", { dataTransfer: dropped });
  await page.locator(".dropzone").dispatchEvent("drop", { dataTransfer: dropped });
  await expect(page.getByTestId("preview")).toBeVisible();
}

/// A batch of `rows` rows over the demo provider (150 ms a row) at concurrency 1, made through
/// the JSON API: 300 rows run for 45 s, so it is still running when a test ends.
export async function runningBatch(request: APIRequestContext, rows = 300): Promise<number> {
  const csv = ["id,review", ...Array.from({ length: rows }, (_, i) => `${i},review number ${i}`)].join("\n");
  return batchOver(request, csv, 1);
}

/// A batch over `csv` (columns `id` and `review`) on the demo provider, `concurrency` rows at
/// once, made through the JSON API; the dataset and batch are named after `file`.
export async function batchOver(request: APIRequestContext, csv: string, concurrency: number, file = "reviews"): Promise<number> {
  const upload = await request.post(`/api/datasets?filename=${file}.csv`, {
    headers: { "content-type": "text/csv" },
    data: csv,
  });
  expect(upload.status()).toBe(201);
  const dataset = (await upload.json()).id;
  const created = await request.post("/api/batches", {
    data: {
      dataset_id: dataset,
      mapping: { columns: [{ name: "id", role: "ignore", is_key: true }, { name: "review", role: "include" }] },
      prompt: { system: "Classify the review.", user: "Review: {{ review }}" },
      schema: { fields: [{ name: "sentiment", type: "enum", options: ["positive", "negative"], required: true }] },
      settings: { provider: "demo", model: "demo-synthetic", concurrency },
    },
  });
  expect(created.status()).toBe(201);
  return (await created.json()).id;
}
