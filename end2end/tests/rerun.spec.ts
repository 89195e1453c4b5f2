// "Run rows again" on the batch page: the rejected rows go back to the model shown the closest
// reviewed rows as worked examples, and a row's drill-down shows which and the prompt it got.
import { test, expect, waitForHydration, batchOver } from "./fixtures";

const reviews = [
  "The battery died after a week",
  "Lovely bright screen and quick delivery",
  "My battery died within a week too",
  "Screen cracked and the screen went dark",
  "Quick delivery and a lovely screen",
  "Speaker crackles at any volume",
];
const csv = ["id,review", ...reviews.map((text, i) => `R-${i + 1},${text}`)].join("\n");

test("rejected rows run again from the page shown the closest reviewed rows, and the drill-down names them", async ({ page, request, consoleErrors }) => {
  const batch = await batchOver(request, csv, 2, "rerun");
  const status = async () => (await (await request.get(`/api/batches/${batch}`)).json()).status;
  await expect.poll(status, { timeout: 20_000 }).toBe("completed");
  const review = async (row: number, data: object) =>
    expect((await request.post(`/api/batches/${batch}/rows/${row}/review`, { data })).status()).toBe(200);
  await review(0, { decision: "accept" });
  await review(1, { decision: "fix", answer: { sentiment: "positive" } });
  await review(2, { decision: "reject" });
  await review(3, { decision: "reject" });

  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  const panel = page.getByTestId("rerun");
  await expect(panel.getByLabel("Rows to run again")).toHaveValue("rejected");
  await panel.getByLabel("Worked examples per row").fill("1");
  await panel.getByLabel("Compare rows by").selectOption("review");
  await panel.getByTestId("rerun-start").click();
  await expect(panel.getByTestId("rerun-started")).toHaveText(
    "2 rows are back in the queue, each shown up to 1 worked example (the closest) from 2 reviewed rows.",
  );
  await expect.poll(status, { timeout: 20_000 }).toBe("completed");

  await page.reload();
  await waitForHydration(page);
  await page.locator('tr[data-row="2"]').click();
  const drill = page.getByTestId("drill-down");
  await expect(drill.getByRole("heading", { name: "Row 3" })).toBeVisible();
  await expect(drill.getByTestId("drill-examples")).toHaveText(
    "Worked examples from re-run 1: row 1 (the closest by review), with the answers a reviewer vouched for.",
  );
  await expect(drill.getByTestId("drill-system")).toContainText(`Review: ${reviews[0]}`);
  await expect(drill.getByTestId("drill-system")).not.toContainText(reviews[2]);

  // Asking again finds nothing rejected left on the current answers: the page says so.
  await panel.getByRole("checkbox", { name: "with worked examples" }).uncheck();
  await panel.getByLabel("Rows to run again").selectOption("failed");
  await panel.getByTestId("rerun-start").click();
  await expect(panel.getByRole("alert")).toContainText("has no failed rows to run again");
  // That refusal, which the page showed, is the one error the console may carry.
  const expected = /status of 400 .*\/rpc\/rerun_rows/;
  const unexpected = consoleErrors.filter((e) => !expected.test(e));
  consoleErrors.splice(0, consoleErrors.length, ...unexpected);
  // The home page's fresh-install check (shell.spec) runs after this one.
  expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
});
