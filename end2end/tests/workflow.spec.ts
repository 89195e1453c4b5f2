// Runs after the other files (they are run in name order): the home page test needs a fresh install.
import { test, expect, waitForHydration } from "./fixtures";

const csv = [
  "ticket,Subject,Customer message",
  'T-1,Refund,"Charged twice, please refund"',
  "T-2,Crash,App closes on start",
  "T-3,=SUM(A1),<script>alert(1)</script>",
  "T-4,Thanks,Great support!",
  "T-5,Password,No reset e-mail",
  "T-6,Late,Parcel two weeks late",
].join("\n");

test("the whole product: upload, map, prompt, schema, start with the demo provider, live progress to 100%, a drill-down and the CSV export", async ({ page }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  const dropped = await page.evaluateHandle((text) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], "tickets.csv", { type: "text/csv" }));
    return transfer;
  }, csv);
  await page.locator(".dropzone").dispatchEvent("drop", { dataTransfer: dropped });
  await expect(page.getByTestId("preview")).toBeVisible();

  await page.getByRole("link", { name: "Continue: Map columns →" }).click();
  await page.getByLabel("ticket", { exact: true }).selectOption("ignore");
  await page.getByLabel("ticket identifies a row").check();
  await expect(page.getByTestId("save-status")).toHaveText("Saved.");
  await page.getByRole("link", { name: "Continue: Prompt →" }).click();
  await expect(page.getByTestId("preview-user")).toContainText("Charged twice");
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved.");
  await page.getByRole("link", { name: "Continue: Response schema →" }).click();
  await page.getByRole("button", { name: "Sentiment" }).click();
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved.");
  await page.getByRole("link", { name: "Continue: Review →" }).click();
  await expect(page.getByTestId("blockers")).toHaveCount(0);
  await page.getByTestId("start").click();
  await expect(page).toHaveURL(/\/batches\/\d+$/);
  await waitForHydration(page);

  // Live: the page is never reloaded (the flag survives) while progress reaches 100%.
  await page.evaluate(() => ((window as any).__stillHere = true));
  await expect(page.getByTestId("batch-progress")).toContainText("100% · 6 of 6 rows finished", { timeout: 20_000 });
  await expect(page.getByTestId("batch-state")).toHaveText("Completed");
  expect(await page.evaluate(() => (window as any).__stillHere)).toBe(true);
  await expect(page.getByTestId("count-succeeded")).toHaveText("6");
  await expect(page.getByTestId("chart").first()).toBeVisible();

  // The queue shows the key column; a cell with markup stays text.
  const rows = page.getByTestId("queue-row");
  await expect(rows).toHaveCount(6);
  await expect(rows.nth(2)).toContainText("T-3");
  await rows.nth(2).click();
  const drill = page.getByTestId("drill-down");
  await expect(drill).toContainText("Row 3");
  await expect(page.getByTestId("drill-cells")).toContainText("<script>alert(1)</script>");
  await expect(page.getByTestId("drill-user")).toContainText("<script>alert(1)</script>");
  await expect(page.getByTestId("drill-answers")).toContainText("sentiment");
  await expect(drill).toContainText("Attempts (1)");

  // The link starts a download named after the dataset; its content is read from the same address.
  const link = page.getByTestId("export-csv");
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  expect(download.suggestedFilename()).toMatch(/^tickets.*\.csv$/);
  const response = await page.request.get((await link.getAttribute("href")) ?? "");
  expect(response.headers()["x-rowbench-partial"]).toBe("false");
  const text = await response.text();
  const lines = text.trim().split(/\r?\n/);
  expect(lines[0]).toContain("ticket,Subject,Customer message,sentiment,confidence,reason");
  expect(lines.length).toBe(7);
  expect(text).toContain('T-1,Refund,"Charged twice, please refund"');
  // The formula guard keeps a spreadsheet from running the cell.
  expect(text).toContain("T-3,'=SUM(A1),<script>alert(1)</script>");
});
