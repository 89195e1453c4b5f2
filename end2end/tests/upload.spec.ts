import { test, expect, waitForHydration } from "./fixtures";

// A semicolon file with a quoted newline, a quoted delimiter, doubled quotes and a blank header.
const csv =
  'name;comment;\r\n' +
  'Ann;"Great; would buy\nagain";5\r\n' +
  'Bob;"said ""meh""";\r\n';

test("a picked semicolon file is previewed, renamed, and still there after a reload", async ({ page }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  await page.getByTestId("file-input").setInputFiles({
    name: "reviews.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(csv, "utf-8"),
  });

  await expect(page.getByText("reviews.csv — 2 rows · 3 columns · UTF-8 · Semicolon delimiter")).toBeVisible();
  await expect(page.getByText('Column 3: (blank) is now "column_3"')).toBeVisible();
  const preview = page.getByTestId("preview");
  await expect(preview.locator("thead th")).toHaveText(["Line", "name", "comment", "column_3"]);
  await expect(preview.locator("tbody tr").first().locator("td")).toHaveText(["2", "Ann", "Great; would buy\nagain", "5"]);
  await expect(preview.locator("tbody tr").nth(1).locator("td")).toHaveText(["4", "Bob", 'said "meh"', ""]);

  await page.getByLabel("Dataset name").fill("Customer reviews");
  await page.getByRole("button", { name: "Save name" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();

  await page.reload();
  await expect(page.getByLabel("Dataset name")).toHaveValue("Customer reviews");
  await expect(page.getByTestId("preview").locator("tbody tr")).toHaveCount(2);
});

test("a ragged file is refused with the line and field counts, then read when padding is chosen", async ({ page }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  await page.getByTestId("file-input").setInputFiles({
    name: "broken.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("a,b,c\n1,2,3\n4,5\n", "utf-8"),
  });
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("Could not read broken.csv");
  await expect(alert).toContainText("line 3 has 2 fields but the header has 3");
  await expect(alert).toContainText("open Reading options");

  // The opt-in reads the same file, padding the short row.
  await page.getByText("Reading options", { exact: true }).click();
  await page.getByLabel(/Pad or cut rows/).check();
  await page.getByTestId("file-input").setInputFiles({
    name: "broken.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("a,b,c\n1,2,3\n4,5\n", "utf-8"),
  });
  await expect(page.getByText("1 row had too few or too many fields and was padded or cut.")).toBeVisible();
  await expect(page.getByTestId("preview").locator("tbody tr").nth(1).locator("td")).toHaveText(["3", "4", "5", ""]);
});

test("a chosen delimiter overrides detection", async ({ page }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  await page.getByText("Reading options", { exact: true }).click();
  await page.getByLabel("Delimiter").selectOption("pipe");
  await page.getByTestId("file-input").setInputFiles({
    name: "pipes.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("a|b,c\n1|2,3\n4|5,6\n", "utf-8"),
  });
  await expect(page.getByTestId("preview").locator("thead th")).toHaveText(["Line", "a", "b,c"]);
});
