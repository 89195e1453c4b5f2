import { test, expect, waitForHydration } from "./fixtures";

test("the home page of a fresh install shows the empty state", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveTitle("Batches · Rowbench");
  await expect(page.getByRole("heading", { level: 1, name: "Batches" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "No batches yet — start one" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Start a batch" })).toHaveAttribute("href", "/new");
  await expect(page.getByRole("link", { name: "Batches", exact: true })).toHaveAttribute(
    "aria-current",
    "page",
  );
});

test("the wizard is reached and its steps are walked without a page reload", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  // A full page load would wipe this flag; client-side navigation keeps it.
  await page.evaluate(() => ((window as any).__stillTheSamePage = true));

  await page.getByRole("link", { name: "New batch" }).first().click();
  await expect(page).toHaveURL(/\/new\/upload$/);
  await expect(page.getByRole("heading", { level: 2, name: "Upload" })).toBeVisible();
  await expect(page.getByText("Step 1 of 6")).toBeVisible();

  // Nothing to map yet: Continue waits for a file and says so; the stepper still leads on.
  await expect(page.getByRole("button", { name: "Continue: Map columns →" })).toBeDisabled();
  await expect(page.getByText("Upload a file to continue.")).toBeVisible();
  const steps = page.getByRole("navigation", { name: "Wizard steps" });
  await steps.getByRole("link", { name: /Map columns/ }).click();
  await expect(page).toHaveURL(/\/new\/columns$/);
  await expect(page.getByRole("heading", { level: 2, name: "Map columns" })).toBeVisible();

  const stepper = page.getByRole("navigation", { name: "Wizard steps" });
  await stepper.getByRole("link", { name: /Review/ }).click();
  await expect(page).toHaveURL(/\/new\/review$/);
  await expect(stepper.getByRole("link", { name: /Review/ })).toHaveAttribute("aria-current", "page");
  await expect(page).toHaveTitle("Review · New batch · Rowbench");

  await page.getByRole("link", { name: "← Back: Response schema" }).click();
  await expect(page).toHaveURL(/\/new\/schema$/);

  await page.goBack();
  await expect(page).toHaveURL(/\/new\/review$/);

  expect(await page.evaluate(() => (window as any).__stillTheSamePage)).toBe(true);
});

test("the draft created for the session survives a reload and resumes its step", async ({ page, browser }) => {
  await page.goto("/new/upload");
  await waitForHydration(page);
  const draft = page.locator("[data-draft-id]");
  const id = await draft.getAttribute("data-draft-id");
  expect(Number(id)).toBeGreaterThan(0);

  // Moving to a step saves it on the server.
  const saved = page.waitForResponse((r) => r.url().endsWith("/rpc/save_step") && r.ok());
  await page.getByRole("navigation", { name: "Wizard steps" }).getByRole("link", { name: /Prompt/ }).click();
  await saved;

  await page.reload();
  await expect(page.locator("[data-draft-id]")).toHaveAttribute("data-draft-id", id!);

  // The wizard's entrance brings the same browser back to where it was.
  await page.goto("/new");
  await expect(page).toHaveURL(/\/new\/prompt$/);
  await expect(page.locator("[data-draft-id]")).toHaveAttribute("data-draft-id", id!);

  // Another browser (no shared cookies) gets a draft of its own.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto("/new/upload");
  const otherId = await otherPage.locator("[data-draft-id]").getAttribute("data-draft-id");
  expect(otherId).not.toEqual(id);
  await other.close();
});

test("an unknown address shows the not-found page with status 404", async ({ page }) => {
  const response = await page.goto("/definitely/not/here");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await page.getByRole("link", { name: "Back to batches" }).click();
  await expect(page).toHaveURL(/\/$/);
});
