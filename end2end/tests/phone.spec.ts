// Every page fits a phone (issue 13, item 4): at 360 and 390 px wide, the page itself never
// scrolls sideways and every control can be reached; wide tables scroll inside their own frame.
import { test, expect, waitForHydration, dropFile, runningBatch } from "./fixtures";
import { fits } from "./checks";

const csv = [
  "ticket,Subject,Customer message,language,gold_label",
  'T-1001,Refund for order 5521,"I was charged twice for my order, please refund one of the payments.",en,refund',
  "T-1002,App crashes on start,Since the last update the app closes as soon as I open it.,en,bug",
  "T-1003,Lieferung verspätet,Meine Bestellung ist seit zwei Wochen unterwegs.,de,delivery",
].join("\n");


for (const width of [360, 390]) {
  test(`every page fits a ${width} px phone with nothing off-screen`, async ({ browser, request }) => {
    test.setTimeout(90_000);
    const context = await browser.newContext({ viewport: { width, height: 780 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const batch = await runningBatch(request, 40);

    await page.goto("/");
    await waitForHydration(page);
    await fits(page, "the batches page");
    for (const name of ["Open", "Clone", "Delete"]) {
      const action = page.getByRole("link", { name, exact: true }).or(page.getByRole("button", { name, exact: true })).first();
      await action.scrollIntoViewIfNeeded();
      await expect(action).toBeInViewport({ ratio: 1 });
    }

    await page.goto("/new/upload");
    await waitForHydration(page);
    await fits(page, "the upload step");
    await dropFile(page, "tickets.csv", csv);
    await fits(page, "the upload step with its preview");

    await page.goto("/new/columns");
    await waitForHydration(page);
    await fits(page, "the columns step");
    const role = page.getByLabel("language", { exact: true });
    await role.scrollIntoViewIfNeeded();
    await expect(role).toBeInViewport({ ratio: 1 });

    await page.goto("/new/prompt");
    await waitForHydration(page);
    await fits(page, "the prompt step");

    await page.goto("/new/schema");
    await waitForHydration(page);
    await page.getByTestId("add-field").click();
    await fits(page, "the schema step");

    await page.goto("/new/review");
    await waitForHydration(page);
    await fits(page, "the review step");

    await page.goto(`/batches/${batch}`);
    await waitForHydration(page);
    await expect(page.getByTestId("queue-row").first()).toBeVisible();
    await fits(page, "a running batch's page");
    await page.getByTestId("queue-row").first().click();
    await expect(page.getByTestId("drill-cells")).toBeVisible();
    await fits(page, "a row's drill-down");
    // The drill-down's text wraps at words, not a character per line.
    const line = await page.getByTestId("drill-cells").evaluate((el) => el.getBoundingClientRect().width);
    expect(line).toBeGreaterThan(width * 0.6);

    await page.goto("/no/such/page");
    await fits(page, "the page-not-found page");

    await page.goto("/settings");
    await waitForHydration(page);
    await fits(page, "the settings page");

    await request.post(`/api/batches/${batch}/cancel`); // refused if it already finished
    expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
    await context.close();
  });
}

for (const width of [1280, 390]) {
  test(`Delete's question and both its answers fit a ${width} px window`, async ({ browser, request }) => {
    const context = await browser.newContext({ viewport: { width, height: 780 } });
    const page = await context.newPage();
    const batch = await runningBatch(request, 2);
    await page.goto("/");
    await waitForHydration(page);
    await page.getByRole("button", { name: "Delete", exact: true }).first().click();
    for (const name of ["Delete", "Keep"]) {
      const answer = page.getByRole("button", { name, exact: true }).first();
      await answer.scrollIntoViewIfNeeded();
      await expect(answer).toBeInViewport({ ratio: 1 });
    }
    await fits(page, "the batches page asking before a delete");
    const box = await page.getByRole("button", { name: "Keep", exact: true }).first().boundingBox();
    const card = await page.locator(".card--flush").first().boundingBox();
    expect(box && card && box.x + box.width <= card.x + card.width, "Keep lies inside the list's card").toBe(true);
    expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
    await context.close();
  });
}
