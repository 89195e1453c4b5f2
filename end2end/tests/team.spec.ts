// Team mode (@team): run by `.ci/test` against a second release server started with
// ROWBENCH_MODE=team, whose accounts were made with `rowbench user add`: a server admin
// admin@alpha.test (workspace Alpha), ben@beta.test (admin of Beta) and vic@alpha.test (viewer
// in Alpha), all with the password in TEAM_PASSWORD. The rest of the suite skips these tests.
import { Browser, Page } from "@playwright/test";
import { test, expect, waitForHydration, batchOver } from "./fixtures";
import { fits, violations } from "./checks";

const password = process.env.TEAM_PASSWORD ?? "correct horse battery";

async function signIn(page: Page, email: string, secret = password) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await waitForHydration(page);
  await expect(page.getByTestId("account")).toContainText(email);
}

async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  return context.newPage();
}

/// A batch over `rows` rows named after `file`, through the JSON API as the page's account.
async function batchAs(page: Page, file: string, rows: number, concurrency: number): Promise<number> {
  const csv = ["id,review", ...Array.from({ length: rows }, (_, i) => `${i},review ${i} of ${file}`)].join("\n");
  return batchOver(page.request, csv, concurrency, file);
}

test("@team the sign-in page refuses a wrong password without saying whether the account exists", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel("Email").fill("nobody@alpha.test");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await expect(page.getByLabel("Email")).toHaveValue("nobody@alpha.test");
});

test("@team an admin invites someone, who makes an account with the link and lands in the workspace", async ({ browser, page }) => {
  await signIn(page, "admin@alpha.test");
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByTestId("members")).toContainText("admin@alpha.test");
  await page.getByTestId("invite-email").fill("vera@alpha.test");
  await page.locator("#invite-role").selectOption("viewer");
  await page.getByTestId("invite-send").click();
  const link = (await page.getByTestId("invite-link").textContent())?.trim() ?? "";
  expect(link).toMatch(/\/invite\/[0-9a-f]{64}$/);
  await expect(page.getByTestId("invites")).toContainText("vera@alpha.test as viewer");

  const vera = await newPage(browser);
  await vera.goto(link);
  await expect(vera.getByRole("heading", { name: "Join Alpha" })).toBeVisible();
  await vera.getByLabel("Choose a password").fill(password);
  await vera.getByLabel("The same password again").fill(password);
  await vera.getByRole("button", { name: "Make my account" }).click();
  await expect(vera).toHaveURL(/\/$/);
  await waitForHydration(vera);
  await expect(vera.getByTestId("role")).toHaveText("viewer");
  await expect(vera.getByTestId("workspace-name")).toHaveText("Alpha");

  // The link worked once.
  const again = await newPage(browser);
  const answer = await again.goto(link);
  expect(answer?.status()).toBe(404);
  await expect(again.getByRole("heading", { name: "This invitation is not valid" })).toBeVisible();
});

test("@team two people in two workspaces each run a batch and cannot see the other's", async ({ browser, page }) => {
  await signIn(page, "admin@alpha.test");
  const ben = await newPage(browser);
  await signIn(ben, "ben@beta.test");
  const alphaBatch = await batchAs(page, "alpha-orders", 4, 4);
  const betaBatch = await batchAs(ben, "beta-tickets", 4, 4);

  await page.goto(`/batches/${alphaBatch}`);
  await waitForHydration(page);
  await expect(page.getByTestId("batch-progress")).toContainText("100%", { timeout: 20_000 });
  await page.goto("/");
  await waitForHydration(page);
  await expect(page.getByRole("link", { name: "alpha-orders" }).first()).toBeVisible();
  await expect(page.getByText("beta-tickets")).toHaveCount(0);

  await ben.goto("/");
  await waitForHydration(ben);
  await expect(ben.getByRole("link", { name: "beta-tickets" }).first()).toBeVisible();
  await expect(ben.getByText("alpha-orders")).toHaveCount(0);
  // Alpha's batch by its id is not there for Ben: the same answer as for no batch at all.
  const theirs = await ben.goto(`/batches/${alphaBatch}`);
  expect(theirs?.status()).toBe(404);
  await expect(ben.getByRole("alert")).toContainText("was not found");
  const api = await ben.request.get(`/api/batches/${alphaBatch}`);
  expect(api.status()).toBe(404);
  const export_ = await ben.request.get(`/api/batches/${alphaBatch}/export`);
  expect(export_.status()).toBe(404);
  expect(await export_.text()).not.toContain("alpha-orders");
  // And the other way round.
  expect((await page.request.get(`/api/batches/${betaBatch}`)).status()).toBe(404);
});

test("@team a viewer sees a running batch and its results but no Start, Pause or Cancel", async ({ browser, page }) => {
  await signIn(page, "admin@alpha.test");
  const running = await batchAs(page, "long-run", 200, 1);

  const vic = await newPage(browser);
  await signIn(vic, "vic@alpha.test");
  await expect(vic.getByTestId("role")).toHaveText("viewer");
  await expect(vic.getByRole("link", { name: "New batch" })).toHaveCount(0);
  await vic.goto(`/batches/${running}`);
  await waitForHydration(vic);
  await expect(vic.getByTestId("batch-progress")).toBeVisible();
  await expect(vic.getByTestId("export-csv")).toBeVisible();
  for (const name of ["Pause", "Resume", "Cancel…", "Clone", "Delete"]) {
    await expect(vic.getByRole("button", { name, exact: true })).toHaveCount(0);
  }
  // The API refuses what the page does not offer.
  const cancel = await vic.request.post(`/api/batches/${running}/cancel`);
  expect(cancel.status()).toBe(403);

  // The admin sees the controls and cancels it; the audit log says who did.
  await page.goto(`/batches/${running}`);
  await waitForHydration(page);
  await page.getByRole("button", { name: "Cancel…" }).click();
  await page.getByRole("button", { name: "Cancel the batch" }).click();
  await expect(page.getByTestId("batch-state")).toHaveText("Cancelled");
  await page.goto("/settings");
  await waitForHydration(page);
  await expect(page.getByTestId("audit-event").first()).toContainText("batch.cancel");
  await expect(page.getByTestId("audit-event").first()).toContainText("admin@alpha.test");
});

test("@team the sign-in, invitation and settings pages fit a phone and pass axe in light and dark", async ({ browser }) => {
  test.setTimeout(90_000);
  const admin = await newPage(browser);
  await signIn(admin, "admin@alpha.test");
  await admin.goto("/settings");
  await waitForHydration(admin);
  await admin.getByTestId("invite-email").fill("phone@alpha.test");
  await admin.getByTestId("invite-send").click();
  const link = (await admin.getByTestId("invite-link").textContent())?.trim() ?? "";
  for (const scheme of ["light", "dark"] as const) {
    for (const width of [390, 1280]) {
      const context = await browser.newContext({ colorScheme: scheme, viewport: { width, height: 800 } });
      const page = await context.newPage();
      const what = (name: string) => `${name} at ${width} px (${scheme})`;
      await page.goto("/login");
      await fits(page, what("the sign-in page"));
      expect.soft(await violations(page), what("the sign-in page")).toEqual([]);
      await page.goto(link);
      await fits(page, what("the invitation page"));
      expect.soft(await violations(page), what("the invitation page")).toEqual([]);
      await signIn(page, "admin@alpha.test");
      await page.goto("/settings");
      await waitForHydration(page);
      await fits(page, what("the settings page"));
      expect.soft(await violations(page), what("the settings page")).toEqual([]);
      await context.close();
    }
  }
});
