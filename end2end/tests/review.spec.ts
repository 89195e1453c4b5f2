// The annotator's loop on the batch page: rows reviewed with the keyboard alone, kept over a
// reload, and carried by the export.
import { test, expect, waitForHydration, batchOver } from "./fixtures";

const csv = ["id,review", ...Array.from({ length: 14 }, (_, i) => `R-${i + 1},review number ${i + 1}`)].join("\n");

test("ten rows reviewed with the keyboard only (accept, a digit, a fix, a rejection) are there after a reload and in the export", async ({ page, request }) => {
  const batch = await batchOver(request, csv, 4, "keyboard-review");
  await expect
    .poll(async () => (await (await request.get(`/api/batches/${batch}`)).json()).status, { timeout: 20_000 })
    .toBe("completed");
  const model: string[] = [];
  for (let row = 0; row < 10; row++) {
    model.push((await (await request.get(`/api/batches/${batch}/rows/${row}`)).json()).result.sentiment);
  }
  // The digit for the option the model did not give (1 positive, 2 negative).
  const other = (row: number) => (model[row] === "positive" ? { digit: "2", option: "negative" } : { digit: "1", option: "positive" });

  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  await expect(page.getByTestId("review-keys")).toContainText("set sentiment");
  const rows = page.getByTestId("queue-row");
  await expect(rows).toHaveCount(14);
  const focused = (row: number) => expect(page.locator(`tr[data-row="${row}"]`)).toBeFocused();

  // Where the reviewer starts; from here on only keys are pressed.
  await rows.first().focus();
  for (let row = 0; row < 3; row++) {
    await page.keyboard.press("a");
    await focused(row + 1);
  }
  // Row 4: a digit sets the first enum field straight from the row.
  await page.keyboard.press(other(3).digit);
  await focused(4);
  // Row 5: e opens the editors; a digit picks the option; Enter saves.
  await page.keyboard.press("e");
  await expect(page.getByLabel("Fix sentiment")).toBeFocused();
  await page.keyboard.press(other(4).digit);
  await page.keyboard.press("Enter");
  await focused(5);
  // Row 6: r asks why; Enter rejects.
  await page.keyboard.press("r");
  await page.keyboard.type("not a review");
  await page.keyboard.press("Enter");
  await focused(6);
  // Up and back down, then four more acceptances.
  await page.keyboard.press("ArrowUp");
  await focused(5);
  await page.keyboard.press("j");
  await focused(6);
  for (let row = 6; row < 10; row++) {
    await page.keyboard.press("a");
    await focused(row + 1);
  }

  const expected = ["accepted", "accepted", "accepted", "fixed", "fixed", "rejected", "accepted", "accepted", "accepted", "accepted"];
  const shown = async () => Promise.all(expected.map((_, row) => page.locator(`tr[data-row="${row}"]`).getAttribute("data-review")));
  expect(await shown()).toEqual(expected);
  await expect(page.locator('tr[data-row="10"]')).toHaveAttribute("data-review", "");

  // Seven accepted and two fixed rows measure the model; the rejected one names no right answer.
  await expect(page.getByTestId("accuracy-line")).toHaveText("78% correct (95% CI 45–94%), 9 rows compared");

  await page.reload();
  await waitForHydration(page);
  expect(await shown()).toEqual(expected);
  await expect(page.locator('tr[data-row="3"] .grid__answer').first()).toHaveText(other(3).option);
  await expect(page.locator('tr[data-row="3"] .grid__answer').first()).toHaveAttribute("title", new RegExp(`The model answered: ${model[3]}`));

  // The review filters.
  await page.getByRole("button", { name: "Rejected" }).click();
  await expect(rows).toHaveCount(1);
  await expect(page).toHaveURL(/review=rejected/);
  await page.getByRole("button", { name: "To review" }).click();
  await expect(rows).toHaveCount(4);

  const exported = await request.get(`/api/batches/${batch}/export?format=csv&model_answers=true`);
  expect(exported.status()).toBe(200);
  const lines = (await exported.text()).trim().split(/\r?\n/);
  const head = lines[0].split(",");
  const at = (name: string) => head.indexOf(name);
  expect(at("_review")).toBeGreaterThan(-1);
  for (let row = 0; row < 10; row++) {
    const cells = lines[row + 1].split(",");
    expect(cells[at("_review")]).toBe(expected[row]);
    expect(cells[at("sentiment_model")]).toBe(model[row]);
    const final = expected[row] === "fixed" ? other(row).option : expected[row] === "rejected" ? "" : model[row];
    expect(cells[at("sentiment")]).toBe(final);
  }
  expect(lines[11].split(",")[at("_review")]).toBe("");
  expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
});

test("a gold column's expected answers measure the model on the batch page, with the confusion matrix", async ({ page, request }) => {
  const labels = ["positive", "negative", "negative", "positive", "", "negative", "positive", "positive"];
  const gold = ["id,review,label", ...labels.map((l, i) => `G-${i + 1},review number ${i + 1},${l}`)].join("\n");
  const upload = await request.post("/api/datasets?filename=gold.csv", { headers: { "content-type": "text/csv" }, data: gold });
  expect(upload.status()).toBe(201);
  const created = await request.post("/api/batches", {
    data: {
      dataset_id: (await upload.json()).id,
      mapping: { columns: [
        { name: "id", role: "ignore", is_key: true },
        { name: "review", role: "include" },
        { name: "label", role: "ignore", gold_for: "sentiment" },
      ] },
      prompt: { system: "Classify the review.", user: "Review: {{ review }}" },
      schema: { fields: [{ name: "sentiment", type: "enum", options: ["positive", "negative"], required: true }] },
      settings: { provider: "demo", model: "demo-synthetic", concurrency: 4 },
    },
  });
  expect(created.status()).toBe(201);
  const batch = (await created.json()).id;
  await expect
    .poll(async () => (await (await request.get(`/api/batches/${batch}`)).json()).status, { timeout: 20_000 })
    .toBe("completed");
  let right = 0;
  for (let row = 0; row < labels.length; row++) {
    const answer = (await (await request.get(`/api/batches/${batch}/rows/${row}`)).json()).result.sentiment;
    if (labels[row] !== "" && answer === labels[row]) right++;
  }
  const measured = (await (await request.get(`/api/batches/${batch}/accuracy`)).json()).fields[0];
  expect([measured.reviewed, measured.gold, measured.correct]).toEqual([7, 7, right]);

  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  const line = page.getByTestId("accuracy-line");
  await expect(line).toContainText(`${Math.round((right / 7) * 100)}% correct (95% CI `);
  await expect(line).toContainText("7 rows compared (all with gold answers)");
  await page.getByText("Confusion matrix").click();
  const matrix = page.getByRole("table", { name: "Confusion matrix of sentiment" });
  await expect(matrix).toBeVisible();
  const diagonal = await matrix.locator("td.is-diagonal").allTextContents();
  expect(diagonal.reduce((sum, n) => sum + Number(n), 0)).toBe(right);
  expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
});

test("a review sheet uploaded on the batch page is checked first, its problems listed by line and column, then its valid lines applied", async ({ page, request }) => {
  const batch = await batchOver(request, ["id,review", "S-1,good", "S-2,bad", "S-3,fine"].join("\n"), 3, "sheet");
  await expect
    .poll(async () => (await (await request.get(`/api/batches/${batch}`)).json()).status, { timeout: 20_000 })
    .toBe("completed");
  const model = (await (await request.get(`/api/batches/${batch}/rows/0`)).json()).result.sentiment;
  const opposite = model === "positive" ? "negative" : "positive";
  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  const downloaded = await page.request.get((await page.getByTestId("sheet-download").getAttribute("href")) ?? "");
  expect((await downloaded.text()).split(/\r?\n/)[0]).toBe("row,id,sentiment,_review,verdict,reason,fix_sentiment");

  const filled = ["row,verdict,reason,fix_sentiment", `1,,,${opposite}`, "2,reject,off topic,", "3,,,maybe"].join("\r\n");
  await page.getByTestId("sheet-file").setInputFiles({ name: "sheet.csv", mimeType: "text/csv", buffer: Buffer.from(filled) });
  await expect(page.getByTestId("sheet-check")).toContainText("The sheet has 1 problem");
  const problem = page.getByTestId("sheet-problem");
  await expect(problem).toHaveCount(1);
  await expect(problem).toContainText("4");
  await expect(problem).toContainText("fix_sentiment");
  expect((await (await request.get(`/api/batches/${batch}/rows/0`)).json()).review).toBeNull();

  await page.getByTestId("sheet-apply").click();
  await expect(page.getByTestId("sheet-result")).toHaveText("Applied: 1 fix, 1 rejected. 1 line with problems left as they were.");
  await expect(page.locator('tr[data-row="0"]')).toHaveAttribute("data-review", "fixed");
  await expect(page.locator('tr[data-row="1"]')).toHaveAttribute("data-review", "rejected");
  await expect(page.getByTestId("accuracy-line")).toContainText("1 row compared");
  expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
});

test("a stratified sample drawn on the batch page is reviewed from its own filter and states the batch's accuracy", async ({ page, request }) => {
  const rows = ["id,review", ...Array.from({ length: 40 }, (_, i) => `P-${i + 1},sampled review ${i + 1}`)].join("\n");
  const batch = await batchOver(request, rows, 4, "sample");
  await expect
    .poll(async () => (await (await request.get(`/api/batches/${batch}`)).json()).status, { timeout: 20_000 })
    .toBe("completed");
  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  const panel = page.getByTestId("sample");
  await expect(panel).toContainText("Rowbench draws rows at random");
  await panel.getByLabel("Rows to draw").fill("8");
  await expect(panel.getByLabel("Stratify the sample by")).toHaveValue("sentiment");
  await panel.getByTestId("draw-sample").click();

  // The grid turns to the sample's rows still to review.
  await expect(page).toHaveURL(/review=unreviewed&sample=true/);
  const drawn = (await (await request.get(`/api/batches/${batch}/sample`)).json()).rows;
  expect(drawn).toBeGreaterThanOrEqual(8);
  const lines = page.getByTestId("queue-row");
  await expect(lines).toHaveCount(drawn);
  await expect(page.getByTestId("sample-chip")).toHaveAttribute("aria-pressed", "true");
  await expect(panel.getByTestId("sample-progress")).toHaveText(`0 of ${drawn} reviewed (0%)`);
  await expect(panel).toContainText("stratified by the model's sentiment");

  // Every row accepted with the keyboard but the last, rejected.
  await lines.first().focus();
  for (let i = 0; i < drawn - 1; i++) {
    await page.keyboard.press("a");
    await expect(lines.nth(i + 1)).toBeFocused();
  }
  // r then Enter at once: the rejection is saved even before its reason's input has the focus.
  await page.keyboard.press("r");
  await page.keyboard.press("Enter");
  await expect(lines.last()).toHaveAttribute("data-review", "rejected");
  await expect(panel.getByTestId("sample-progress")).toHaveText(`${drawn} of ${drawn} reviewed (100%)`);
  const line = panel.getByTestId("sample-line");
  await expect(line).toContainText("% correct (95% CI ");
  await expect(line).toContainText(`${drawn} rows reviewed`);
  const estimate = (await (await request.get(`/api/batches/${batch}/sample`)).json()).fields[0];
  expect([estimate.reviewed, estimate.correct]).toEqual([drawn, drawn - 1]);
  await expect(line).toContainText(`${Math.round(estimate.accuracy * 100)}% correct`);
  await panel.getByText("Strata", { exact: true }).click();
  await expect(panel.getByRole("table", { name: "Strata of the sample" })).toBeVisible();

  const exported = await request.get(`/api/batches/${batch}/export?format=csv`);
  expect(JSON.parse(exported.headers()["x-rowbench-accuracy"]).sentiment.from).toBe("sample");

  // Discarded: the form again, the chip gone, the reviews kept.
  await panel.getByTestId("discard-sample").click();
  await expect(panel.getByTestId("sample-form")).toBeVisible();
  await expect(page.getByTestId("sample-chip")).toHaveCount(0);
  expect((await (await request.get(`/api/batches/${batch}/accuracy`)).json()).fields[0].reviewed).toBe(drawn - 1);
  expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
});
