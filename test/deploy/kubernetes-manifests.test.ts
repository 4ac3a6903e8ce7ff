import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { ConfigMap, Secret, Service } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";

// The manifests in deploy/kubernetes, validated against the Kubernetes OpenAPI schemas that kubernetes-models
// ships (no cluster here). Beyond the schema: the secret split and the runner's sandbox needs.
const dir = join(import.meta.dirname, "../../deploy/kubernetes");
const models: Record<string, new (o: never) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "v1/Service": Service,
  "v1/Secret": Secret,
  "v1/ConfigMap": ConfigMap,
};
type Doc = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };
const docs: Doc[] = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) => yaml.loadAll(readFileSync(join(dir, f), "utf8")) as Doc[]);
const byName = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
type Pod = {
  spec: {
    template: {
      spec: {
        containers: {
          envFrom?: { secretRef?: { name: string } }[];
          env?: { name: string }[];
          securityContext?: object;
        }[];
        securityContext?: { seccompProfile?: { type: string } };
        volumes?: { secret?: { secretName: string } }[];
      };
    };
  };
};

describe("deploy/kubernetes", () => {
  it("every document is a known kind and valid against its schema", () => {
    expect(docs.length).toBeGreaterThanOrEqual(7);
    for (const doc of docs) {
      const Model = models[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${doc.apiVersion}/${doc.kind} ${doc.metadata.name}`).toBeDefined();
      expect(() => new (Model as new (o: Doc) => { validate(): void })(doc).validate()).not.toThrow();
    }
  });

  it("an invalid manifest is refused (the validation can fail)", () => {
    const bad = structuredClone(byName("Deployment", "forgehand-webhook")) as Doc & { spec: { replicas: unknown } };
    bad.spec.replicas = "two";
    expect(() => new Deployment(bad as never).validate()).toThrow();
  });

  it("the webhook gets only webhook secrets and the runners only forge and agent credentials", () => {
    const secretsOf = (doc: Doc | undefined) => {
      const spec = (doc as unknown as Pod).spec.template.spec;
      return [
        ...spec.containers.flatMap((c) => (c.envFrom ?? []).map((e) => e.secretRef?.name)),
        ...(spec.volumes ?? []).map((v) => v.secret?.secretName).filter(Boolean),
      ];
    };
    expect(secretsOf(byName("Deployment", "forgehand-webhook"))).toEqual(["forgehand-webhook"]);
    expect(secretsOf(byName("StatefulSet", "forgehand-runner")).sort()).toEqual([
      "forgehand-github-app-key",
      "forgehand-runner",
    ]);
    const keys = (name: string) =>
      Object.keys((byName("Secret", name) as unknown as { stringData: object }).stringData);
    const webhookKeys = keys("forgehand-webhook");
    const runnerKeys = keys("forgehand-runner");
    for (const k of ["GITHUB_WEBHOOK_SECRET", "GITEA_WEBHOOK_SECRET", "FORGEHAND_API_TOKEN"])
      expect(runnerKeys).not.toContain(k);
    for (const k of ["GITHUB_APP_ID", "GITEA_TOKEN", "ANTHROPIC_API_KEY", "GITHUB_TOKEN"])
      expect(webhookKeys).not.toContain(k);
  });

  it("runners keep a volume each and may build the sandbox; the webhook stays on the runtime's default seccomp", () => {
    const runner = byName("StatefulSet", "forgehand-runner") as Doc & { spec: { volumeClaimTemplates?: unknown[] } };
    expect(runner.spec.volumeClaimTemplates?.length).toBe(1);
    const pod = (runner as unknown as Pod).spec.template.spec;
    expect(pod.securityContext?.seccompProfile?.type).toBe("Unconfined");
    expect(JSON.stringify(pod.containers[0]?.securityContext)).not.toMatch(/privileged"\s*:\s*true|SYS_ADMIN/);
    const web = (byName("Deployment", "forgehand-webhook") as unknown as Pod).spec.template.spec;
    expect(web.securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
  });
});
