import { test, expect, waitForHydration } from "./fixtures";

const csv =
  "ticket;body;Language;channel\r\n" +
  'T-1;"Refund please;\nthanks";de;email\r\n' +
  "T-2;App crashes;en;chat\r\n";

test("a dropped file's columns are mapped with an inline key check, previewed on real rows, and kept after a reload", async ({ page }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  // Drop the file on the drop zone, as a person dragging it from their desktop would.
  const dropped = await page.evaluateHandle((text) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], "tickets.csv", { type: "text/csv" }));
    return transfer;
  }, csv);
  await page.locator(".dropzone").dispatchEvent("dragover", { dataTransfer: dropped });
  await page.locator(".dropzone").dispatchEvent("drop", { dataTransfer: dropped });
  await expect(page.getByTestId("preview")).toBeVisible();

  await page.getByRole("link", { name: "Continue: Map columns →" }).click();
  await expect(page).toHaveURL(/\/new\/columns$/);
  await expect(page.getByTestId("example")).toContainText("ticket: T-1");

  // Language becomes a system parameter under its slug; a bad key is refused next to the field.
  await page.getByLabel("Language", { exact: true }).selectOption("param");
  const key = page.getByLabel("Parameter key for Language");
  await expect(key).toHaveValue("language");
  await key.fill("1lang");
  await expect(page.getByRole("alert")).toContainText('the parameter key "1lang" must start with a letter or _');
  await expect(page.getByTestId("save-status")).toHaveText("Not saved: fix the problem shown above.");
  await key.fill("lang");
  await expect(page.getByRole("alert")).toHaveCount(0);

  await page.getByLabel("channel", { exact: true }).selectOption("ignore");
  await page.getByLabel("ticket identifies a row").check();
  await expect(page.getByTestId("save-status")).toHaveText("Saved.");

  const example = page.getByTestId("example");
  await expect(example).toContainText("body: Refund please;\n    thanks");
  await expect(example).toContainText("system_params.lang = de");
  await expect(example).not.toContainText("channel");
  await page.getByRole("button", { name: "Next →" }).click();
  await expect(example).toContainText("system_params.lang = en");

  await page.reload();
  await expect(page.getByLabel("Parameter key for Language")).toHaveValue("lang");
  await expect(page.getByLabel("channel", { exact: true })).toHaveValue("ignore");
  await expect(page.getByLabel("ticket identifies a row")).toBeChecked();
});
