// Another web site open in the same browser cannot steer Rowbench: its forms and fetches are
// refused, it cannot frame the app, and the app's CSP stops scripts it did not sign.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { APIRequestContext } from "@playwright/test";
import { test, expect, runningBatch, waitForHydration } from "./fixtures";

const rowbench = new URL(process.env.ROWBENCH_URL ?? "http://127.0.0.1:3000").origin;

async function status(request: APIRequestContext, batch: number): Promise<string> {
  return (await (await request.get(`/api/batches/${batch}`)).json()).status;
}

/// A second origin on another loopback address (so another site, not only another port), serving
/// whatever page the test sets.
async function foreignSite(): Promise<{ url: string; serve: (html: string) => void; close: () => Promise<void> }> {
  let page = "";
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.2", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.2:${port}/`,
    serve: (html) => (page = html),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/// A page that posts a form to Rowbench as soon as it loads.
function autoSubmit(action: string, fields: Record<string, string>, enctype = "application/x-www-form-urlencoded") {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
    .join("");
  return `<!DOCTYPE html><html><body>
    <form id="f" method="POST" enctype="${enctype}" action="${rowbench}${action}">${inputs}</form>
    <script>document.getElementById("f").submit()</script>
  </body></html>`;
}

// What the browser itself logs while the foreign page is refused: the refused navigations, the
// favicon it then asks of the JSON answer, and the answer it hides from a no-cors fetch.
const expectedRefusals = [
  /status of 403 \(Forbidden\) \(http:\/\/[^)]+\/(api|rpc)\//,
  /status of 404 \(Not Found\) \(http:\/\/[^)]+\/favicon\.ico\)/,
  /ERR_BLOCKED_BY_RESPONSE\.NotSameOrigin \(http:\/\/[^)]+\/api\//,
];

test("a foreign page's auto-submitted forms and fetches cannot cancel a running batch or upload a file", async ({ page, request, consoleErrors }) => {
  const batch = await runningBatch(request);
  const site = await foreignSite();
  try {
    const forms: [string, Record<string, string>, string?][] = [
      [`/api/batches/${batch}/cancel`, {}],
      ["/rpc/control_batch", { id: String(batch), action: "cancel" }],
      [`/api/datasets?filename=x.csv`, { "a,b\n1,2\n": "" }, "text/plain"],
    ];
    for (const [action, fields, enctype] of forms) {
      site.serve(autoSubmit(action, fields, enctype));
      const refused = page.waitForResponse((r) => r.url() === `${rowbench}${action}`);
      await page.goto(site.url);
      const response = await refused;
      expect(response.status(), `POST ${action} from ${site.url}`).toBe(403);
      expect((await response.json()).error.code).toBe("cross_origin");
    }

    // A script can still send a request it cannot read; it is refused all the same.
    site.serve("<!DOCTYPE html><title>elsewhere</title>");
    await page.goto(site.url);
    const sent = await page.evaluate(async (url) => {
      try {
        await fetch(url, { method: "POST", mode: "no-cors", credentials: "include" });
        return "answered";
      } catch (err) {
        // Cross-Origin-Resource-Policy hides even the opaque answer; the request went out.
        return String(err);
      }
    }, `${rowbench}/api/batches/${batch}/cancel`);
    expect(sent).toMatch(/answered|Failed to fetch/);

    expect(await status(request, batch)).toBe("running");
  } finally {
    await site.close();
    // The home page test of a later file expects a fresh install: leave no batch behind.
    await request.post(`/api/batches/${batch}/cancel`);
    expect((await request.delete(`/api/batches/${batch}`)).status()).toBe(204);
  }
  const unexpected = consoleErrors.filter((e) => !expectedRefusals.some((r) => r.test(e)));
  consoleErrors.splice(0, consoleErrors.length, ...unexpected);
});

test("a foreign page cannot frame Rowbench", async ({ page, consoleErrors }) => {
  const site = await foreignSite();
  try {
    site.serve(`<!DOCTYPE html><iframe src="${rowbench}/"></iframe>`);
    const refusal = page.waitForEvent("console", (m) => /frame-ancestors|X-Frame-Options/.test(m.text()));
    await page.goto(site.url);
    await refusal;
    const framed = page.frames().find((f) => f !== page.mainFrame());
    expect(await framed?.locator("main").count()).toBe(0);
  } finally {
    await site.close();
  }
  // Expected: the browser reports the refusal on the foreign page's console.
  consoleErrors.splice(0, consoleErrors.length);
});

test("the app hydrates under its CSP, and a script it did not sign is refused on the console", async ({ page, consoleErrors }) => {
  const response = await page.goto("/");
  const csp = response?.headers()["content-security-policy"] ?? "";
  expect(csp).toMatch(/script-src 'self' 'nonce-[\w-]+' 'wasm-unsafe-eval'/);
  expect(response?.headers()["x-frame-options"]).toBe("DENY");
  await waitForHydration(page);
  expect(consoleErrors).toEqual([]);

  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.__injected = true";
    document.head.append(script);
  });
  await expect.poll(() => consoleErrors.join("\n")).toMatch(/Content Security Policy/);
  expect(await page.evaluate(() => (window as any).__injected)).toBeUndefined();
  // The violation reached the fixture, which would fail any other test on it; this one wanted it.
  consoleErrors.splice(0, consoleErrors.length);
});
