// What a new user hit first (issue 13), each checked the way a user does it: typing key by key
// (Playwright's fill() sets a whole value at once and never saw focus being lost).
import { test, expect, waitForHydration, dropFile, runningBatch } from "./fixtures";

const csv = "id,title,lang\n1,Great phone,en\n2,Meh,de\n";

test("the options of a one-of-a-list field can be typed key by key", async ({ page }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  await dropFile(page, "options.csv", csv);
  await page.goto("/new/schema");
  await waitForHydration(page);
  await page.getByTestId("add-field").click();
  const name = page.locator("#field-0-name");
  await name.press("Control+a");
  await name.pressSequentially("reason");
  await expect(name).toHaveValue("reason");
  await page.locator("#field-0-type").selectOption("enum");
  const options = page.locator("#field-0-options");
  await options.click();
  await options.pressSequentially("delay\nweather\ncrew");
  await expect(options).toHaveValue("delay\nweather\ncrew");
  await expect(options).toBeFocused();
  await expect(page.getByTestId("json-schema")).toContainText('"crew"');
});

test("a parameter key can be typed key by key", async ({ page }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  await dropFile(page, "params.csv", csv);
  await page.goto("/new/columns");
  await waitForHydration(page);
  await page.getByLabel("lang", { exact: true }).selectOption("param");
  const key = page.getByLabel("Parameter key for lang");
  await key.press("Control+a");
  await key.pressSequentially("language");
  await expect(key).toHaveValue("language");
  await expect(key).toBeFocused();
});

test("cancel asks first, saying how many rows it ends, and Keep it leaves the batch running", async ({ page, request }) => {
  const batch = await runningBatch(request);
  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  await page.getByRole("button", { name: "Cancel…" }).click();
  const confirm = page.getByTestId("confirm-cancel");
  await expect(confirm).toContainText(/End \d+ unfinished rows\? This cannot be undone\./);
  await confirm.getByRole("button", { name: "Keep it" }).click();
  await expect(confirm).toHaveCount(0);
  expect((await (await request.get(`/api/batches/${batch}`)).json()).status).toBe("running");

  await page.getByRole("button", { name: "Cancel…" }).click();
  await page.getByRole("button", { name: "Cancel the batch" }).click();
  await expect(page.getByTestId("batch-state")).toHaveText("Cancelled");
  expect((await (await request.get(`/api/batches/${batch}`)).json()).status).toBe("cancelled");
  // Later files expect a fresh install's empty list.
  expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
});

test("a row's drill-down opens beside the table, steps to the next row, closes on Escape, and its address opens it", async ({ page, request }) => {
  const batch = await runningBatch(request, 5);
  await expect.poll(async () => (await (await request.get(`/api/batches/${batch}`)).json()).status).toBe("completed");
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  await page.getByTestId("queue-row").nth(2).click();
  const drill = page.getByTestId("drill-down");
  await expect(drill.getByRole("heading", { name: "Row 3" })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/batches/${batch}\\?row=3$`));
  // In view where the click was: not somewhere below the table.
  const box = await drill.boundingBox();
  expect(box!.y).toBeLessThan(800);
  expect(box!.y + box!.height).toBeLessThanOrEqual(801);
  await expect(page.getByTestId("drill-cells")).toContainText("review number 2");

  await drill.getByRole("button", { name: "Next row" }).click();
  await expect(drill.getByRole("heading", { name: "Row 4" })).toBeVisible();
  await expect(page.getByTestId("drill-cells")).toContainText("review number 3");
  await expect(page).toHaveURL(new RegExp(`\\?row=4$`));

  await page.keyboard.press("Escape");
  await expect(drill).toHaveCount(0);
  await expect(page).toHaveURL(new RegExp(`/batches/${batch}$`));

  await page.goto(`/batches/${batch}?row=2`);
  await waitForHydration(page);
  await expect(page.getByTestId("drill-down").getByRole("heading", { name: "Row 2" })).toBeVisible();
  await expect(page.getByTestId("drill-cells")).toContainText("review number 1");
  expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
});

test("a batch that does not exist says so and links back to the batches", async ({ page }) => {
  await page.goto("/batches/987654");
  await waitForHydration(page);
  await expect(page.getByRole("alert")).toContainText("Batch 987654");
  await page.getByTestId("back-to-batches").click();
  await expect(page).toHaveURL(/\/$/);
});

test("the schema step's messages end in one full stop", async ({ page }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  await dropFile(page, "stops.csv", csv);
  await page.goto("/new/schema");
  await waitForHydration(page);
  await expect(page.getByText("Add at least one field for the model to fill in.", { exact: true })).toBeVisible();
  await expect(page.getByText(/fill in\.\./)).toHaveCount(0);
});

test("a new dataset sends its text to the model, keeps the gold label and ids out, and Include all sends every column", async ({ page }) => {
  const tweets =
    "tweet_id,airline_sentiment,airline_sentiment_gold,airline,text,retweet_count\n" +
    '570306133677760513,neutral,,Virgin America,"@VirginAmerica What @dhepburn said, really.",0\n' +
    "570301130888122368,positive,,Virgin America,@VirginAmerica plus you've added commercials to the experience,0\n";
  await page.goto("/new/upload");
  await waitForHydration(page);
  await dropFile(page, "tweets.csv", tweets);
  await page.goto("/new/columns");
  await waitForHydration(page);
  await expect(page.getByLabel("text", { exact: true })).toHaveValue("include");
  for (const out of ["tweet_id", "airline_sentiment", "airline_sentiment_gold", "airline", "retweet_count"]) {
    await expect(page.getByLabel(out, { exact: true })).toHaveValue("ignore");
  }
  await expect(page.getByLabel("tweet_id identifies a row")).toBeChecked();
  await expect(page.getByTestId("example")).not.toContainText("neutral");

  await page.getByRole("button", { name: "Include all" }).click();
  await expect(page.getByLabel("airline_sentiment", { exact: true })).toHaveValue("include");
  await expect(page.getByTestId("save-status")).toHaveText("Saved.");
  await page.getByRole("button", { name: "Ignore all" }).click();
  await expect(page.getByLabel("text", { exact: true })).toHaveValue("ignore");
});

test("a primary button shows where the keyboard focus is", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  // As a keyboard user gets there: Tab until the page's primary button has the focus.
  let ring = { primary: false, visible: false, outline: "", width: "" };
  for (let i = 0; i < 20 && !ring.primary; i++) {
    await page.keyboard.press("Tab");
    ring = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return {
        primary: el.classList.contains("btn--primary"),
        visible: el.matches(":focus-visible"),
        outline: style.outlineStyle,
        width: style.outlineWidth,
      };
    });
  }
  expect(ring.primary, "a primary button is reached by Tab").toBe(true);
  expect(ring.visible).toBe(true);
  expect(ring.outline).toBe("solid");
  expect(ring.width).toBe("2px");
});

test("the queue table shows every answer field and the text the model read, cut on the page and whole in the drill-down", async ({ page, request }) => {
  const long = "word ".repeat(100).trim();
  const csv = ["id,review,lang", `1,${long},en`, "2,short review,de"].join("\n");
  const upload = await request.post("/api/datasets?filename=fields.csv", { headers: { "content-type": "text/csv" }, data: csv });
  const dataset = (await upload.json()).id;
  const created = await request.post("/api/batches", {
    data: {
      dataset_id: dataset,
      mapping: { columns: [{ name: "id", role: "ignore", is_key: true }, { name: "review", role: "include" }, { name: "lang", role: "ignore" }] },
      prompt: { system: "Classify.", user: "{{ review }}" },
      schema: { fields: [
        { name: "sentiment", type: "enum", options: ["positive", "negative"], required: true },
        { name: "score", type: "number", required: true },
        { name: "topic", type: "string", required: true },
      ] },
      settings: { provider: "demo", model: "demo-synthetic", concurrency: 2 },
    },
  });
  const batch = (await created.json()).id;
  await expect.poll(async () => (await (await request.get(`/api/batches/${batch}`)).json()).status).toBe("completed");
  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  const head = page.locator(".queue__table thead");
  for (const name of ["id", "review", "sentiment", "score", "topic"]) {
    await expect(head).toContainText(name);
  }
  await expect(head).not.toContainText("lang");
  const first = page.getByTestId("queue-row").first();
  const cell = first.locator("td", { hasText: "word word" });
  // Cut at 300 characters on the page, the rest in the drill-down.
  await expect(cell).toHaveAttribute("title", long.slice(0, 300) + "…");
  await first.click();
  await expect(page.getByTestId("drill-cells")).toContainText(long);
  await expect(page.getByTestId("queue-row").nth(1)).toContainText("short review");
  expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
});

test("the prompt step never says all is saved while its template has a problem", async ({ page }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  await dropFile(page, "prompt.csv", csv);
  await page.goto("/new/prompt");
  await waitForHydration(page);
  const user = page.getByLabel("User message");
  await user.click();
  await page.keyboard.press("Control+End");
  await user.pressSequentially(" {{ titel }}");
  await expect(page.getByTestId("user-template-issues")).toContainText("Did you mean `title`?");
  await expect(page.getByTestId("save-status")).toHaveText("Saved, but fix the problem shown before the batch can run.");
  for (let i = 0; i < " {{ titel }}".length; i++) await page.keyboard.press("Backspace");
  await expect(page.getByTestId("save-status")).toHaveText("All changes saved.");
});

test.describe("item 8: the Review step's estimate, connection check and rows at once", () => {
  // 1,500 rows over the offline demo (~0.15 s a row): long enough that rows at once changes the time.
  const manyRows = ["id,review", ...Array.from({ length: 1500 }, (_, i) => `${i},review number ${i}`)].join("\n");

  async function openReview(page: import("@playwright/test").Page) {
    await page.goto("/new/upload");
    await waitForHydration(page);
    await dropFile(page, "estimate.csv", manyRows);
    await page.goto("/new/review");
    await waitForHydration(page);
  }

  test("typing a number key by key updates the estimate without leaving the field", async ({ page }) => {
    await openReview(page);
    const time = page.getByTestId("estimate-time");
    await expect(time).toHaveText("4 min");
    const rowsAtOnce = page.locator("#concurrency");
    await rowsAtOnce.click();
    await rowsAtOnce.press("Control+a");
    await rowsAtOnce.pressSequentially("16");
    // No blur, no Enter: the estimate follows the keys, and the caret stays in the field.
    await expect(time).toHaveText("14 s");
    await expect(rowsAtOnce).toBeFocused();
    await expect(rowsAtOnce).toHaveValue("16");

    await page.locator("#trial").check();
    const trial = page.getByLabel("Number of rows to test on");
    await trial.click();
    await trial.press("Control+a");
    await trial.pressSequentially("250");
    await expect(page.getByTestId("estimate-rows")).toHaveText("250");
    await expect(trial).toBeFocused();
    await expect(trial).toHaveValue("250");

    // Clearing the field while typing a new number never puts a number back under the caret.
    await rowsAtOnce.click();
    await rowsAtOnce.press("Control+a");
    await rowsAtOnce.press("Backspace");
    await expect(rowsAtOnce).toHaveValue("");
    await rowsAtOnce.pressSequentially("4");
    await expect(rowsAtOnce).toHaveValue("4");

    // Saved once typing paused: a reload shows what was typed.
    await page.waitForTimeout(1000);
    await page.reload();
    await waitForHydration(page);
    await expect(page.locator("#concurrency")).toHaveValue("4");
    await expect(page.getByTestId("estimate-rows")).toHaveText("250");
  });

  test("Check the connection on the offline demo says it works", async ({ page }) => {
    await openReview(page);
    await page.getByTestId("check-connection").click();
    const result = page.getByTestId("connection-result");
    await expect(result).toHaveText(/^It works: the offline demo answers on this server/);
    await expect(result).toHaveClass(/alert--success/);
  });

  test("the explanation of rows at once and its time change as you type", async ({ page }) => {
    await openReview(page);
    const help = page.getByTestId("concurrency-help");
    await expect(help).toContainText("1 row at a time: each row is sent once the one before has answered");
    await expect(help).toContainText("1 row at a time ≈ 4 min for 1,500 rows at ~0.15 s a row (assumed).");
    const rowsAtOnce = page.locator("#concurrency");
    await rowsAtOnce.click();
    await rowsAtOnce.press("Control+a");
    await rowsAtOnce.pressSequentially("8");
    await expect(help).toContainText("Up to 8 rows are with the model at the same time");
    await expect(help).toContainText("8 rows at once ≈ 28 s for 1,500 rows at ~0.15 s a row (assumed).");
    await rowsAtOnce.pressSequentially("0");
    await expect(help).toContainText("a whole number from 1 to 64");
    await expect(rowsAtOnce).toBeFocused();
  });
});
