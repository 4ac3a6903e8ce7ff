import { cpus, freemem, loadavg, totalmem } from "node:os";

/** The machine a figure was measured on; every figure states it. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  node: string;
  memGiB: number;
  freeGiB: number;
  /** 1-minute load average when the bench started: the machine is shared, this says how busy it was. */
  load1: number;
}

/** Reads the machine description once per bench run. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    node: process.version,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** One-line description used in the table and in RESULTS.md. */
export function describeMachine(m: MachineInfo): string {
  return `${m.cores} cores (${m.cpuModel}), Node ${m.node}, ${m.memGiB} GiB RAM, load ${m.load1} at start`;
}
