// Comparison runs from the batch page: the batch's rows run again with another system prompt,
// and the agreement per field fills in as the run finishes, the same as the API's.
import { test, expect, waitForHydration, batchOver } from "./fixtures";

const csv = ["id,review", ...Array.from({ length: 40 }, (_, i) => `K-${i + 1},review number ${i + 1}`)].join("\n");

test("a comparison started from a finished batch with another system prompt fills in its agreement per field, as the API counts it", async ({ page, request }) => {
  const batch = await batchOver(request, csv, 16, "compare-page");
  await expect
    .poll(async () => (await (await request.get(`/api/batches/${batch}`)).json()).status, { timeout: 20_000 })
    .toBe("completed");
  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  const panel = page.getByTestId("compare");
  await expect(panel.getByLabel("Model to compare with")).toHaveValue("demo/demo-synthetic");
  await expect(panel.getByLabel("System prompt of the comparison")).toHaveValue("Classify the review.");

  // A bad number is named before anything starts.
  await panel.getByLabel("Temperature of the comparison").fill("hot");
  await panel.getByTestId("compare-start").click();
  await expect(panel.getByRole("alert")).toHaveText("Temperature is a number from 0 to 2, or blank for the batch's own.");

  await panel.getByLabel("Temperature of the comparison").fill("0.3");
  await panel.getByLabel("System prompt of the comparison").fill("Classify the review; be strict.");
  await panel.getByLabel("Rows to compare").selectOption("first");
  await panel.getByLabel("Rows to compare, how many").fill("30");
  await panel.getByTestId("compare-start").click();
  const started = panel.getByTestId("compare-started");
  await expect(started).toContainText("The comparison run started");
  await expect(panel.getByRole("alert")).toHaveCount(0);
  const run = Number((await started.getByRole("link").getAttribute("href"))?.split("/").pop());

  // The agreement fills in as the run's rows finish.
  await expect(panel.getByTestId("rows-compared")).toHaveText("30 rows answered by every run.", { timeout: 20_000 });
  const comparison = await panel.getByTestId("comparison").getAttribute("data-comparison");
  const api = await (await request.get(`/api/comparisons/${comparison}`)).json();
  expect(api.runs.map((r: { batch_id: number }) => r.batch_id)).toEqual([batch, run]);
  expect(api.runs[1].name).toBe("compare-page · temperature 0.3, another prompt");
  const sentiment = api.fields[0];
  expect(sentiment.rows_compared).toBe(30);
  const row = panel.getByTestId("agreement-row").filter({ hasText: "sentiment" });
  await expect(row.getByTestId("agreement")).toHaveText(`${Math.round(sentiment.agreement * 100)}%`);
  await expect(row.getByTestId("kappa")).toHaveText(sentiment.kappa === undefined ? "–" : sentiment.kappa.toFixed(2));
  await expect(panel.getByRole("link", { name: "compare-page · temperature 0.3, another prompt" })).toHaveAttribute("href", `/batches/${run}`);

  // What the same calls would cost on other models, from the tokens recorded.
  const costs = await (await request.get(`/api/batches/${batch}/costs`)).json();
  await panel.getByText(/^What these \d+ calls would cost elsewhere/).click();
  const lines = panel.getByTestId("cost-row");
  await expect(lines).toHaveCount(costs.models.length);
  await expect(lines.first()).toContainText(`${costs.models[0].label} (${costs.models[0].provider})`);
  await expect(lines.filter({ hasText: "GPT-4o mini (openai)" })).toContainText("not set up here");

  for (const id of [run, batch]) {
    expect((await request.delete(`/api/batches/${id}`)).status()).toBe(204);
  }
});
