export type { EmulatedRole, EmulatorState } from "./emulator-state";
export type { EmulatedApp } from "./github-routes";
export {
  type ForgeEmulator,
  type ForgeEmulatorOptions,
  type RecordedCall,
  startForgeEmulator,
} from "./start-forge-emulator";
export type { EmulatedDelivery } from "./webhook-sender";
