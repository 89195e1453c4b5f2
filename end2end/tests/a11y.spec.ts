// Accessibility (issue 13, item 9): axe-core checks every page in light and dark, and any
// serious or critical violation fails the suite, named with the elements it was found on.
import { test, expect, waitForHydration, dropFile, runningBatch } from "./fixtures";
import { violations } from "./checks";

const csv = [
  "ticket,Subject,Customer message,language",
  'T-1,Refund,"I was charged twice, please refund.",en',
  "T-2,Crash,The app closes on start.,en",
].join("\n");


for (const scheme of ["light", "dark"] as const) {
  test(`every page has no serious or critical accessibility violation in ${scheme} mode`, async ({ browser, request }) => {
    test.setTimeout(120_000);
    const context = await browser.newContext({ colorScheme: scheme });
    const page = await context.newPage();
    const batch = await runningBatch(request, 40);
    const check = async (what: string) => expect.soft(await violations(page), `${what} (${scheme})`).toEqual([]);

    await page.goto("/");
    await waitForHydration(page);
    await check("the batches page");

    await page.goto("/new/upload");
    await waitForHydration(page);
    await check("the upload step");
    await dropFile(page, "tickets.csv", csv);
    await check("the upload step with its preview");

    await page.goto("/new/columns");
    await waitForHydration(page);
    await page.getByLabel("language", { exact: true }).selectOption("param");
    await check("the columns step");

    await page.goto("/new/prompt");
    await waitForHydration(page);
    await check("the prompt step");

    await page.goto("/new/schema");
    await waitForHydration(page);
    await page.getByTestId("add-field").click();
    await check("the schema step");

    await page.goto("/new/review");
    await waitForHydration(page);
    await check("the review step");

    await page.goto(`/batches/${batch}`);
    await waitForHydration(page);
    await expect(page.getByTestId("queue-row").first()).toBeVisible();
    await check("a running batch's page");
    await page.getByTestId("queue-row").first().click();
    await expect(page.getByTestId("drill-cells")).toBeVisible();
    await check("a row's drill-down");

    await page.goto("/no/such/page");
    await check("the page-not-found page");

    await page.goto("/settings");
    await waitForHydration(page);
    await check("the settings page");

    await request.post(`/api/batches/${batch}/cancel`); // refused if it already finished
    expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
    await context.close();
  });
}
