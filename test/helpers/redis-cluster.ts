import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port";

/** A real 3-primary Redis Cluster on loopback, made with `redis-cli --cluster create`. */
export interface ClusterHandle {
  /** `redis+cluster://127.0.0.1:p1,…` for createRedis. */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

function cli(port: number, ...args: string[]): string {
  const r = spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8", timeout: 30_000 });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`;
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`[test] redis cluster: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startRedisCluster(): Promise<ClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), "fh-cluster-"));
  // Cluster ports need port+10000 free as well (the bus); pick below 55535.
  const ports: number[] = [];
  while (ports.length < 3) {
    const p = await freePort();
    if (p < 55_000 && !ports.includes(p)) ports.push(p);
  }
  const procs: ChildProcess[] = ports.map((port) =>
    spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(dir, `nodes-${port}.conf`),
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      { stdio: "ignore" },
    ),
  );
  const stop = async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until("the nodes to answer", () => ports.every((p) => cli(p, "PING").includes("PONG")));
    const created = cli(
      ports[0] ?? 0,
      "--cluster",
      "create",
      ...ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    );
    if (!created.includes("All 16384 slots covered")) throw new Error(`[test] redis-cli --cluster create:\n${created}`);
    await until("cluster_state:ok on every node", () =>
      ports.every((p) => cli(p, "CLUSTER", "INFO").includes("cluster_state:ok")),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`, ports, stop };
}
