// What a new user hit first (issue 13), each checked the way a user does it: typing key by key
// (Playwright's fill() sets a whole value at once and never saw focus being lost).
import type { APIRequestContext } from "@playwright/test";
import { test, expect, waitForHydration, dropFile, runningBatch, batchOver } from "./fixtures";

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
  // What each column costs, and what the sent ones add up to.
  await expect(page.getByTestId("column-tokens")).toHaveCount(6);
  await expect(page.getByTestId("column-tokens").nth(4)).toHaveText(/^≈ \d+ tokens a row when sent$/);
  const sent = page.getByTestId("sent-tokens");
  await expect(sent).toHaveText(/^Sent: 1 of 6 columns, ≈ \d+ tokens a row$/);
  const tokensOf = async () => Number((await sent.textContent())?.match(/≈ (\d+)/)?.[1]);
  const one = await tokensOf();

  await page.getByRole("button", { name: "Include all" }).click();
  await expect(page.getByLabel("airline_sentiment", { exact: true })).toHaveValue("include");
  await expect(sent).toHaveText(/^Sent: 6 of 6 columns/);
  expect(await tokensOf()).toBeGreaterThan(one);
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

test("the export says how many cells start like a formula before the download and lets the user keep them as stored", async ({ page, request }) => {
  const csv = "id,review\n1,@VirginAmerica thanks\n2,-- worst flight\n3,=1+2\n4,plain words\n5,-12.5\n";
  const batch = await batchOver(request, csv, 5);
  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  await expect(page.getByTestId("batch-state")).toHaveText("Completed", { timeout: 20_000 });
  // A finished batch says how long it took, not a rate of nothing, live and after a reload.
  await expect(page.getByTestId("rate-or-duration")).toContainText(/Took\s*\d+(\.\d+)? s/);
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByTestId("rate-or-duration")).toContainText(/Took\s*\d+(\.\d+)? s/);
  // Before any download: how many cells, where, and what a spreadsheet would do ("-12.5" is a number).
  const count = page.getByTestId("formula-count");
  await expect(count).toHaveText("3 cells start with = + - @ (in review (3)). A spreadsheet would run them as a formula.");
  await expect(page.getByTestId("export-panel")).toContainText("those 3 cells get a leading '");
  await expect(page.getByTestId("csv-for-spreadsheets")).toBeChecked();

  const csvText = async () => (await page.request.get((await page.getByTestId("export-csv").getAttribute("href")) ?? "")).text();
  const guarded = await csvText();
  expect(guarded).toContain("'@VirginAmerica thanks");
  expect(guarded).toContain("5,-12.5,");

  // The other choice, in words: every cell as stored.
  await page.getByText("Exactly as stored", { exact: true }).click();
  await expect(page.getByTestId("csv-as-stored")).toBeChecked();
  const plain = await csvText();
  expect(plain).toContain("1,@VirginAmerica thanks,");
  expect(plain).toContain("2,-- worst flight,");
  expect(plain).not.toContain("'");
  expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
});

test("a system parameter no template reads is flagged, and clicking its chip puts it where the user was typing", async ({ page }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  await dropFile(page, "params.csv", csv);
  await page.goto("/new/columns");
  await waitForHydration(page);
  await page.getByLabel("lang", { exact: true }).selectOption("param");
  await expect(page.getByTestId("save-status")).toHaveText("Saved.");
  await page.goto("/new/prompt");
  await waitForHydration(page);
  const unused = page.getByTestId("unused-params");
  await expect(unused).toContainText("The model never sees the system parameter `lang`");
  await expect(unused).toContainText("Write {{ system_params.lang }} where the model should see it");

  const system = page.getByLabel("System prompt");
  await system.click();
  await system.press("Control+End");
  await system.pressSequentially("\nReply in ");
  await page.getByTestId("available-names").getByRole("button", { name: "{{ system_params.lang }}" }).click();
  await expect(system).toHaveValue(/\nReply in \{\{ system_params\.lang \}\}$/);
  await expect(system).toBeFocused();
  await expect(unused).toHaveCount(0);
  // The caret is after the name: typing goes on from there.
  await system.pressSequentially(".");
  await expect(system).toHaveValue(/\{\{ system_params\.lang \}\}\.$/);
  await expect(page.getByTestId("preview-system")).toContainText("Reply in en.");
});

test("the queue's filter and search are kept in the address, so a reload shows the same rows", async ({ page, request }) => {
  const batch = await runningBatch(request);
  await page.goto(`/batches/${batch}`);
  await waitForHydration(page);
  await page.getByRole("button", { name: /^Queued/ }).click();
  await expect(page).toHaveURL(new RegExp(`/batches/${batch}\\?status=queued$`));
  const search = page.getByLabel("Search key columns");
  await search.pressSequentially("29");
  await search.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/batches/${batch}\\?status=queued&q=29$`));

  await page.reload();
  await waitForHydration(page);
  await expect(page.getByRole("button", { name: /^Queued/ })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByLabel("Search key columns")).toHaveValue("29");
  const rows = page.getByTestId("queue-row");
  await expect(rows.first()).toContainText("29");
  for (const text of await rows.allTextContents()) expect(text).toContain("29");
  expect((await request.post(`/api/batches/${batch}/cancel`)).status()).toBeLessThan(300);
  expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
});

test("Add field selects the new field's name, so typing replaces it", async ({ page }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  await dropFile(page, "fields.csv", csv);
  await page.goto("/new/schema");
  await waitForHydration(page);
  await page.getByTestId("add-field").click();
  const name = page.locator("#field-0-name");
  await expect(name).toBeFocused();
  await page.keyboard.type("urgency");
  await expect(name).toHaveValue("urgency");
});

test.describe("item 6: try on the first rows, fix, run the rest", () => {
  /// A demo batch over the first `firstRows` of `rows` uploaded rows, made through the JSON API.
  async function trial(request: APIRequestContext, rows: number, firstRows: number, user = "Review: {{ review }}"): Promise<number> {
    const csv = ["id,review", ...Array.from({ length: rows }, (_, i) => `${i},review number ${i}`)].join("\n");
    const upload = await request.post("/api/datasets?filename=trial.csv", { headers: { "content-type": "text/csv" }, data: csv });
    expect(upload.status()).toBe(201);
    const created = await request.post("/api/batches", {
      data: {
        dataset_id: (await upload.json()).id,
        mapping: { columns: [{ name: "id", role: "ignore", is_key: true }, { name: "review", role: "include" }] },
        prompt: { system: "Classify the review.", user },
        schema: { fields: [{ name: "sentiment", type: "enum", options: ["positive", "negative"], required: true }] },
        settings: { provider: "demo", model: "demo-synthetic", concurrency: 1, first_rows: firstRows },
      },
    });
    expect(created.status()).toBe(201);
    const id = (await created.json()).id;
    await expect.poll(async () => (await (await request.get(`/api/batches/${id}`)).json()).status).toBe("completed");
    return id;
  }

  async function rows(request: APIRequestContext, id: number) {
    return (await (await request.get(`/api/batches/${id}/rows`)).json()).rows;
  }

  test("a finished trial runs its remaining rows in the same batch and keeps its answers", async ({ page, request }) => {
    const batch = await trial(request, 8, 3);
    const tried = await rows(request, batch);
    expect(tried).toHaveLength(3);
    await page.goto(`/batches/${batch}`);
    await waitForHydration(page);
    const banner = page.getByTestId("trial-banner");
    await expect(banner).toContainText("Trial: the first 3 of 8 rows");
    await expect(banner).toContainText("run the other 5 rows in this batch");
    await banner.getByRole("button", { name: "Run the remaining rows" }).click();

    await expect(banner).toHaveCount(0);
    await expect(page).toHaveURL(new RegExp(`/batches/${batch}$`));
    await expect(page.getByTestId("batch-progress")).toHaveText("100% · 8 of 8 rows finished", { timeout: 20_000 });
    await expect(page.getByTestId("batch-state")).toHaveText("Completed");
    await expect(page.getByTestId("queue-row")).toHaveCount(8);
    const all = await rows(request, batch);
    expect(all.map((r: { row_index: number }) => r.row_index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(all.slice(0, 3), "the trial's answers are unchanged").toEqual(tried);
    const shown = await (await request.get(`/api/batches/${batch}`)).json();
    expect(shown.total_rows).toBe(8);
    expect(shown.settings.first_rows).toBeNull();

    // Once the rest has run, the page no longer calls it a trial.
    await page.reload();
    await waitForHydration(page);
    await expect(page.getByTestId("batch-progress")).toHaveText("100% · 8 of 8 rows finished");
    await expect(page.getByTestId("trial-banner")).toHaveCount(0);
    expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
  });

  test("change the prompt and try again opens the Prompt step with the trial's recipe and its trial setting", async ({ page, request }) => {
    const template = "Trial template: {{ review }}";
    const batch = await trial(request, 5, 2, template);
    await page.goto(`/batches/${batch}`);
    await waitForHydration(page);
    await page.getByTestId("trial-banner").getByRole("button", { name: "Change the prompt and try again" }).click();
    await expect(page).toHaveURL(/\/new\/prompt$/);
    await expect(page.locator("#step-title")).toHaveText("Prompt");
    await expect(page.getByLabel("User message")).toHaveValue(template);
    await expect(page.getByLabel("System prompt")).toHaveValue("Classify the review.");

    await page.goto("/new/review");
    await waitForHydration(page);
    await expect(page.locator("#trial")).toBeChecked();
    await expect(page.getByLabel("Number of rows to test on")).toHaveValue("2");
    // The trial itself is left as it was.
    expect((await (await request.get(`/api/batches/${batch}`)).json()).total_rows).toBe(2);
    expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
  });

  test("retrying a row keeps its earlier answer in the drill-down", async ({ page, request }) => {
    const batch = await trial(request, 4, 2);
    const before = (await (await request.get(`/api/batches/${batch}/rows/0`)).json());
    await page.goto(`/batches/${batch}`);
    await waitForHydration(page);
    await page.getByTestId("queue-row").first().click();
    const drill = page.getByTestId("drill-down");
    await expect(page.getByTestId("drill-answers")).toContainText(before.result.sentiment);
    await expect(page.getByTestId("drill-earlier")).toHaveCount(0);

    await drill.getByRole("button", { name: "Retry this row" }).click();
    const earlier = page.getByTestId("earlier-answer");
    await expect(earlier).toHaveCount(1);
    await expect(drill.getByRole("heading", { name: "Earlier answers (1)" })).toBeVisible();
    await expect(earlier).toContainText("succeeded");
    await expect(earlier).toContainText("claim 1");
    await expect(earlier.locator("dl")).toContainText(`sentiment${before.result.sentiment}`);
    await expect.poll(async () => (await (await request.get(`/api/batches/${batch}/rows/0`)).json()).attempt).toBe(2);
    await expect(page.getByTestId("batch-state")).toHaveText("Completed");
    expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
  });
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
