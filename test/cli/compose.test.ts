import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { COMMANDS } from "@forgehand/cli";
import { freePort, pingRedis } from "@forgehand/queue";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Service {
  build?: string | { context: string; dockerfile?: string };
  image?: string;
  command?: string[] | string;
  volumes?: string[];
  ports?: string[];
  container_name?: string;
  security_opt?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  secrets?: ({ source: string; target?: string } | string)[];
}

function compose(): {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
} {
  // merge: true resolves the `<<: *forgehand` keys the way Compose does.
  return parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true });
}

const argv = (cmd: Service["command"]) => (typeof cmd === "string" ? cmd.split(/\s+/) : (cmd ?? []));
/** redis-server's own arguments, also when the command is `sh -c 'exec redis-server … <<EOF'`. */
const redisArgv = (cmd: Service["command"]) => {
  const parts = argv(cmd);
  if (parts[0] !== "sh") return parts;
  return (parts[2]?.split("\n")[0] ?? "").split(/\s+/).filter((w) => w !== "exec" && w !== "<<EOF");
};

describe("docker-compose.yml", () => {
  it("has redis, webhook and runner services", () => {
    expect(Object.keys(compose().services).sort()).toEqual(["redis", "runner", "webhook"]);
  });

  it("runs a real forgehand subcommand in every forgehand service, with flags the CLI knows", () => {
    const { services } = compose();
    const forgehand = Object.entries(services).filter(([name]) => name !== "redis");
    expect(forgehand.length).toBeGreaterThan(0);
    for (const [name, service] of forgehand) {
      const [sub, ...flags] = argv(service.command);
      expect(Object.keys(COMMANDS), `${name}: command ${sub}`).toContain(sub);
      for (const flag of flags.filter((f) => f.startsWith("--")))
        expect(readFileSync(join(root, "apps/cli/src/commands", `${sub}.ts`), "utf8")).toContain(`${flag.slice(2)}: {`);
    }
    expect(argv(services.webhook!.command)[0]).toBe("webhook");
    expect(argv(services.runner!.command)[0]).toBe("runner");
  });

  it("builds webhook and runner from the one Dockerfile, whose entrypoint is the forgehand binary", () => {
    const { services } = compose();
    for (const name of ["webhook", "runner"]) {
      const build = services[name]!.build;
      const context = typeof build === "string" ? build : build?.context;
      expect(context, name).toBe(".");
      expect(services[name]!.image).toBe(services.webhook!.image);
      expect(services[name]!.environment?.REDIS_URL).toBe(
        "redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}@redis:6379",
      );
    }
    const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
    // A current Node LTS (24 or 22), not the end-of-life 20.
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:(24|22)-bookworm-slim$/m);
    expect(dockerfile).not.toMatch(/node:20/);
    expect(dockerfile).toMatch(/^ENTRYPOINT \[.*"node", "apps\/cli\/bin\/forgehand\.mjs"\]/m);
    expect(existsSync(join(root, "apps/cli/bin/forgehand.mjs"))).toBe(true);
  });

  it("keeps redis durable: appendonly on and a named volume at /data", () => {
    const { services, volumes } = compose();
    const redis = services.redis!;
    const cmd = redisArgv(redis.command);
    expect(cmd[cmd.indexOf("--appendonly") + 1]).toBe("yes");
    const mount = redis.volumes?.find((v) => v.endsWith(":/data"));
    expect(mount).toBeDefined();
    expect(Object.keys(volumes ?? {})).toContain(mount!.split(":")[0]);
  });

  it("requires a Redis password: compose refuses to start without REDIS_PASSWORD, and it is in no argv", () => {
    const { services } = compose();
    const redis = services.redis!;
    expect(redis.environment?.REDIS_PASSWORD).toBe("${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}");
    expect(redisArgv(redis.command).join(" ")).not.toMatch(/REDIS_PASSWORD|requirepass/);
    expect(redis.healthcheck?.test?.join(" ")).toMatch(/REDISCLI_AUTH="\$\$REDIS_PASSWORD" redis-cli ping/);
  });

  it("its redis command, run as the container would, refuses clients without the password", async () => {
    const redis = compose().services.redis!;
    const [sh, flag, script] = redis.command as string[];
    expect([sh, flag]).toEqual(["sh", "-c"]);
    const port = await freePort();
    const password = "compose-test-password-0123456789";
    // Compose turns `$$` into `$`; the port and dir are ours so the test does not collide with a real Redis.
    const local = script!
      .replaceAll("$$", "$")
      .replace(
        "redis-server -",
        `redis-server - --port ${port} --bind 127.0.0.1 --dir ${mkdtempSync(join(tmpdir(), "fh-compose-"))}`,
      );
    const server = spawn("sh", ["-c", local], { env: { ...process.env, REDIS_PASSWORD: password }, stdio: "ignore" });
    try {
      const deadline = Date.now() + 10_000;
      while (!(await pingRedis(port, "127.0.0.1", 500, password)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(await pingRedis(port, "127.0.0.1", 500, password)).toBe(true);
      expect(await pingRedis(port)).toBe(false);
      expect(readFileSync(`/proc/${server.pid}/cmdline`, "utf8")).not.toContain(password);
      // The healthcheck's shell command, with the same environment.
      const health = (redis.healthcheck!.test![1] as string)
        .replaceAll("$$", "$")
        .replace("redis-cli", `redis-cli -p ${port}`);
      expect(spawnSync("sh", ["-c", health], { env: { ...process.env, REDIS_PASSWORD: password } }).status).toBe(0);
      expect(
        spawnSync("sh", ["-c", health], { env: { ...process.env, REDIS_PASSWORD: "wrong-password-000000" } }).status,
      ).not.toBe(0);
    } finally {
      server.kill("SIGKILL");
    }
  });

  it("lets the runner scale: no fixed name or host port, and a per-replica data volume", () => {
    const runner = compose().services.runner!;
    expect(runner.container_name).toBeUndefined();
    expect(runner.ports).toBeUndefined();
    // An anonymous volume (no `name:` part) is created per container, so replicas never share a data dir.
    expect(runner.volumes).toContain("/data");
  });

  it("lets the runner's sandbox work: bubblewrap in the image, user namespaces allowed, nothing privileged", () => {
    const runner = compose().services.runner as Service & { privileged?: boolean; cap_add?: string[] };
    const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/apt-get install [^\n]*\bbubblewrap\b/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(runner.security_opt).toEqual(
      expect.arrayContaining(["seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"]),
    );
    expect(runner.privileged).toBeUndefined();
    expect(runner.cap_add).toBeUndefined();
  });

  it("gives each service only the secrets it needs: no forge credentials in the webhook, no webhook secret in runners", () => {
    const { services, secrets } = compose();
    const names = (service: Service) => Object.keys(service.environment ?? {});
    const webhook = names(services.webhook!);
    const runner = names(services.runner!);
    // The webhook verifies deliveries and serves the API; it knows the bot by login, not by token.
    expect(webhook).toEqual(
      expect.arrayContaining(["GITHUB_WEBHOOK_SECRET", "GITEA_WEBHOOK_SECRET", "FORGEHAND_API_TOKEN"]),
    );
    expect(webhook).toEqual(expect.arrayContaining(["FORGEHAND_GITHUB_LOGIN", "FORGEHAND_GITEA_LOGIN"]));
    for (const forgeSecret of [
      "GITHUB_TOKEN",
      "GITEA_TOKEN",
      "GITHUB_APP_ID",
      "GITHUB_PRIVATE_KEY",
      "GITHUB_PRIVATE_KEY_PATH",
    ])
      expect(webhook, `webhook has ${forgeSecret}`).not.toContain(forgeSecret);
    expect(webhook.filter((n) => /_API_KEY$/.test(n))).toEqual([]);
    // Runners talk to the forge and the model; a webhook secret would let an agent forge deliveries.
    expect(runner).toEqual(
      expect.arrayContaining(["GITHUB_TOKEN", "GITEA_TOKEN", "GITHUB_APP_ID", "ANTHROPIC_API_KEY"]),
    );
    for (const deliverySecret of ["GITHUB_WEBHOOK_SECRET", "GITEA_WEBHOOK_SECRET", "FORGEHAND_API_TOKEN"])
      expect(runner, `runner has ${deliverySecret}`).not.toContain(deliverySecret);
    // The App key: a compose secret from the host path, mounted in the runner only, where the env points.
    expect(secrets?.github_app_key?.file).toBe("${GITHUB_PRIVATE_KEY_PATH:-/dev/null}");
    expect(services.runner!.secrets).toEqual([{ source: "github_app_key", target: "github-app.pem" }]);
    expect(services.runner!.environment?.GITHUB_PRIVATE_KEY_PATH).toBe(
      "${GITHUB_PRIVATE_KEY_PATH:+/run/secrets/github-app.pem}",
    );
    expect(services.webhook!.secrets).toBeUndefined();
    // Redis: the password is the only secret it gets.
    expect(Object.keys(services.redis!.environment ?? {})).toEqual(["REDIS_PASSWORD"]);
  });

  it("builds the image properly: dependency layer before the sources, production deps only, non-root", () => {
    const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const build = stages.find((s) => /AS build$/m.test(s.split("\n")[0]!))!;
    // Every workspace manifest is copied before `npm ci`, which runs before the rest of the tree.
    const ci = build.indexOf("RUN npm ci");
    const tree = build.indexOf("COPY . .");
    expect(ci).toBeGreaterThan(0);
    expect(tree).toBeGreaterThan(ci);
    expect(build.slice(0, ci)).toContain("COPY package.json package-lock.json");
    const workspaces = ["apps", "packages"].flatMap((g) =>
      readdirSync(join(root, g))
        .filter((d) => existsSync(join(root, g, d, "package.json")))
        .map((d) => `${g}/${d}`),
    );
    for (const ws of workspaces) expect(build.slice(0, ci), ws).toContain(`COPY ${ws}/package.json ${ws}/`);
    // The runtime stage takes node_modules from a stage that installed with --omit=dev, never from build.
    const runtime = stages.at(-1)!;
    const from = runtime.match(/^COPY --from=(\S+) \/app\/node_modules/m)?.[1];
    expect(from).toBeDefined();
    expect(from).not.toBe("build");
    const depsStage = stages.find((s) => s.split("\n")[0]!.endsWith(`AS ${from}`))!;
    expect(depsStage).toMatch(/RUN npm ci --omit=dev/);
    expect(runtime).not.toMatch(/COPY \. \.|npm (ci|install)/);
    expect(dockerfile).not.toMatch(/npm install (?!-g --prefix \/opt\/agents)/);
    expect(runtime).toMatch(/^USER node$/m);
  });
});
