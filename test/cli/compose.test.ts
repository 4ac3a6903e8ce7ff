import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { COMMANDS } from "@forgehand/cli";
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
}

function compose(): { services: Record<string, Service>; volumes?: Record<string, unknown> } {
  // merge: true resolves the `<<: *forgehand` keys the way Compose does.
  return parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true });
}

const argv = (cmd: Service["command"]) => (typeof cmd === "string" ? cmd.split(/\s+/) : (cmd ?? []));

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
      expect(services[name]!.environment?.REDIS_URL).toBe("redis://redis:6379");
    }
    const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM node:20-slim/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \[.*"node", "apps\/cli\/bin\/forgehand\.mjs"\]/m);
    expect(existsSync(join(root, "apps/cli/bin/forgehand.mjs"))).toBe(true);
  });

  it("keeps redis durable: appendonly on and a named volume at /data", () => {
    const { services, volumes } = compose();
    const redis = services.redis!;
    const cmd = argv(redis.command);
    expect(cmd[cmd.indexOf("--appendonly") + 1]).toBe("yes");
    const mount = redis.volumes?.find((v) => v.endsWith(":/data"));
    expect(mount).toBeDefined();
    expect(Object.keys(volumes ?? {})).toContain(mount!.split(":")[0]);
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
});
