import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

/**
 * What makes two runners "on the same host" for pid checks: the same hostname, the same boot and the same pid
 * namespace. Only then does a pid (and its /proc start time) one runner wrote name the process the other sees.
 */
export interface HostIdentity {
  name: string;
  bootId: string;
  pidNs: string;
}

function read(fn: () => string): string {
  try {
    return fn().trim();
  } catch {
    return "";
  }
}

/** This process's host identity; empty parts (no /proc) never match anything. */
export function hostIdentity(): HostIdentity {
  return {
    name: hostname(),
    bootId: read(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8")),
    pidNs: read(() => readlinkSync("/proc/self/ns/pid")),
  };
}

/** Whether `other` is this host: every part known and equal. */
export function sameHost(mine: HostIdentity, other: Partial<HostIdentity> | undefined): boolean {
  if (!other) return false;
  return (
    mine.bootId !== "" &&
    mine.pidNs !== "" &&
    other.name === mine.name &&
    other.bootId === mine.bootId &&
    other.pidNs === mine.pidNs
  );
}
