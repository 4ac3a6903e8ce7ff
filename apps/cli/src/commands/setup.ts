import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { hostname } from "node:os";
import { createCliContext } from "../cli-context";
import { convertManifestCode, saveAppCredentials } from "../convert-manifest-code";
import { githubAppManifest, githubWebUrl, manifestFormAction, manifestFormHtml } from "../github-app-manifest";
import { parseFlags, UsageError } from "../parse-flags";

const FLAGS = {
  url: { type: "string" },
  name: { type: "string" },
  org: { type: "string" },
  workflows: { type: "boolean" },
  json: { type: "boolean" },
  code: { type: "string" },
  "env-file": { type: "string" },
} as const;

/**
 * `forgehand setup github`: registers the GitHub App from a manifest. Interactive by default: a
 * page on 127.0.0.1 posts the manifest to GitHub, GitHub redirects the browser back to it with a
 * code, and the code is exchanged for the App id, private key and webhook secret (saved to .env).
 */
export async function setupCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("setup", args, FLAGS);
  if (positionals.length !== 1 || positionals[0] !== "github")
    throw new UsageError(
      "[cli] forgehand setup takes one forge: `forgehand setup github` (Gitea: docs/getting-started.md)",
    );
  const ctx = createCliContext();
  const apiUrl = ctx.env.GITHUB_API_URL || "https://api.github.com";
  const envFile = values["env-file"] ?? ".env";
  if (values.code) return exchange(apiUrl, values.code, envFile, ctx.dataDir);
  if (!values.url || !URL.canParse(values.url) || !/^https?:$/.test(new URL(values.url).protocol))
    throw new UsageError(
      `[cli] --url must be the http(s) URL GitHub reaches forgehand at (e.g. a smee.io channel), got \`${values.url ?? ""}\``,
    );
  const name = values.name ?? `forgehand-${hostname().split(".")[0]}`.slice(0, 34);
  const build = (redirectUrl: string) =>
    githubAppManifest({ name, publicUrl: values.url!, redirectUrl, workflows: Boolean(values.workflows) });
  if (values.json) {
    // Non-interactive: post it yourself; GitHub redirects to the public URL with ?code=… to pass to --code.
    process.stdout.write(`${JSON.stringify(build(values.url), null, 2)}\n`);
    return 0;
  }
  return interactive(build, { apiUrl, org: values.org, envFile, dataDir: ctx.dataDir });
}

async function exchange(apiUrl: string, code: string, envFile: string, dataDir: string): Promise<number> {
  const app = await convertManifestCode(apiUrl, code);
  const { keyPath } = saveAppCredentials(app, envFile, dataDir);
  process.stdout.write(
    `GitHub App ${app.slug} (id ${app.id}) created.\n` +
      `  wrote GITHUB_APP_ID, GITHUB_PRIVATE_KEY_PATH, FORGEHAND_GITHUB_LOGIN${app.webhook_secret ? ", GITHUB_WEBHOOK_SECRET" : ""} to ${envFile}\n` +
      `  private key: ${keyPath} (mode 0600)\n` +
      `Next: install the App on your repository (https://github.com/apps/${app.slug}/installations/new), then \`npm start\`.\n`,
  );
  return 0;
}

function interactive(
  build: (redirectUrl: string) => ReturnType<typeof githubAppManifest>,
  opts: { apiUrl: string; org: string | undefined; envFile: string; dataDir: string },
): Promise<number> {
  // The state ties GitHub's redirect to this page, so another local page cannot feed us a code.
  const state = randomBytes(16).toString("hex");
  return new Promise((resolve) => {
    const server = createServer(async (req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const redirectUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/callback`;
      if (url.pathname === "/") {
        const action = manifestFormAction(githubWebUrl(opts.apiUrl), state, opts.org);
        res
          .writeHead(200, { "content-type": "text/html; charset=utf-8" })
          .end(manifestFormHtml(build(redirectUrl), action));
        return;
      }
      if (url.pathname !== "/callback") return void res.writeHead(404).end("not found\n");
      const code = url.searchParams.get("code");
      if (url.searchParams.get("state") !== state || !code)
        return void res.writeHead(400).end("state mismatch or no code: start from the page this command printed\n");
      try {
        await exchange(opts.apiUrl, code, opts.envFile, opts.dataDir);
        res.writeHead(200, { "content-type": "text/plain" }).end("GitHub App created; see your terminal.\n");
        finish(0);
      } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`);
        res.writeHead(502, { "content-type": "text/plain" }).end(`${(error as Error).message}\n`);
        finish(1);
      }
    });
    const onSignal = () => finish(130);
    function finish(code: number) {
      process.off("SIGINT", onSignal);
      server.close();
      server.closeAllConnections();
      resolve(code);
    }
    process.once("SIGINT", onSignal);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      process.stdout.write(
        `Open http://127.0.0.1:${port}/ in a browser on this machine and press "Create GitHub App".\n` +
          "GitHub sends you back here; the App's id, key and webhook secret are then saved. Ctrl-C to give up.\n",
      );
    });
  });
}
