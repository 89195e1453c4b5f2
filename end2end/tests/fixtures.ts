// Shared test set-up: every page is checked for console errors (a hydration mismatch shows up
// there), and `waitForHydration` waits until the Leptos app in the browser has taken over.
import { test as base, expect, Page } from "@playwright/test";

export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() !== "error") return;
        // A page answered with 404 on purpose logs its own status, and an API refusal (4xx) is
        // shown to the user by the page; anything else is a fault.
        const url = msg.location().url;
        const ownNotFound = url === page.url() && /status of 404/.test(msg.text());
        const apiRefusal = new URL(url, page.url()).pathname.startsWith("/api/") && /status of 4\d\d/.test(msg.text());
        if (!ownNotFound && !apiRefusal) errors.push(`${msg.text()} (${url})`);
      });
      page.on("pageerror", (err) => errors.push(err.message));
      await use(errors);
      expect(errors, "the browser console stays free of errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export async function waitForHydration(page: Page) {
  await expect(page.locator("main[data-hydrated=true]")).toBeAttached();
}
