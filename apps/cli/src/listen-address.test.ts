import { describe, expect, it } from "vitest";
import { listenAddress } from "./listen-address";

describe("listenAddress", () => {
  it("says a wildcard bind is every interface and offers a loopback URL", () => {
    expect(listenAddress("0.0.0.0", 3000)).toEqual({
      bind: "0.0.0.0:3000 (every interface)",
      url: "http://127.0.0.1:3000",
    });
    expect(listenAddress("::", 3000)).toEqual({ bind: "[::]:3000 (every interface)", url: "http://[::1]:3000" });
  });

  it("names a specific address as bound", () => {
    expect(listenAddress("127.0.0.1", 41234)).toEqual({ bind: "127.0.0.1:41234", url: "http://127.0.0.1:41234" });
    expect(listenAddress("::1", 8080)).toEqual({ bind: "[::1]:8080", url: "http://[::1]:8080" });
  });
});
