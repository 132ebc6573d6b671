import { describe, expect, it } from "vitest";
import { isSwitchyardError } from "../../core/errors.js";
import { checkEndpointConfig, type Resolver, vetEndpoint } from "./endpoint-guard.js";
import { classifyAddress } from "./ip-ranges.js";

const strict = { allowPrivateEndpoints: false };

function resolverOf(map: Record<string, string[]>): Resolver {
  return async (hostname) => {
    const found = map[hostname];
    if (found === undefined) throw new Error(`ENOTFOUND ${hostname}`);
    return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
}

async function refusal(url: string, resolve?: Resolver): Promise<string> {
  try {
    await vetEndpoint(url, resolve ? { ...strict, resolve } : strict);
  } catch (error) {
    if (isSwitchyardError(error) && error.code === "invalid_endpoint") return error.message;
    throw error;
  }
  throw new Error(`${url} was accepted`);
}

describe("classifyAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.1.1", "link-local"],
    ["169.254.169.254", "cloud-metadata"],
    ["100.64.0.1", "shared-address-space"],
    ["100.127.255.255", "shared-address-space"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["fd00:ec2::254", "cloud-metadata"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:a9fe:a9fe", "cloud-metadata"],
    ["64:ff9b::a00:1", "private"],
    ["2002:c0a8:0101::1", "private"],
    ["::127.0.0.1", "loopback"],
    ["[::1]", "loopback"],
    ["0000:0000:0000:0000:0000:0000:0000:0001", "loopback"],
    ["::FFFF:7F00:0001", "loopback"],
    ["2002:7f00:1::", "loopback"],
    ["64:ff9b::169.254.169.254", "cloud-metadata"],
    ["::ffff:100.100.100.200", "cloud-metadata"],
    ["64:ff9b:1::8.8.8.8", "private"],
    ["2001:db8::1", "reserved"],
    ["::ffff:0.0.0.0", "unspecified"],
    ["not-an-ip", "reserved"],
  ])("%s is %s", (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "169.253.255.255",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "2002:0808:0808::1",
  ])("%s is public", (address) => {
    expect(classifyAddress(address)).toBeNull();
  });
});

describe("vetEndpoint", () => {
  it("refuses schemes other than http and https", async () => {
    for (const url of ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "javascript:1"])
      expect(await refusal(url)).toMatch(/scheme/);
    expect(await refusal("not a url")).toMatch(/not a valid URL/);
  });

  it("refuses credentials in the URL", async () => {
    expect(await refusal("https://user:pw@example.com/")).toMatch(/credentials/);
  });

  it.each([
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://127.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[0:0:0:0:0:ffff:7f00:1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0xA9FEA9FE/",
    "http://2852039166/",
    "http://[fd00:ec2::254]/",
    "http://10.0.0.1:8080/hook",
    "http://100.100.100.200/",
    "http://0.0.0.0/",
  ])("refuses the IP literal %s in any spelling", async (url) => {
    expect(await refusal(url)).toMatch(/refused: .* resolves to/);
  });

  it("refuses a host when ANY of its addresses is private", async () => {
    const resolve = resolverOf({ "mixed.test": ["93.184.216.34", "10.0.0.7"] });
    expect(await refusal("https://mixed.test/hook", resolve)).toMatch(/10\.0\.0\.7 \(private\)/);
  });

  it("refuses a host resolving to the metadata service", async () => {
    const resolve = resolverOf({ "metadata.test": ["169.254.169.254"] });
    expect(await refusal("http://metadata.test/", resolve)).toMatch(/cloud-metadata/);
  });

  it("refuses hosts that do not resolve", async () => {
    expect(await refusal("https://nowhere.test/", resolverOf({}))).toMatch(/could not be resolved/);
  });

  it("returns the vetted address with the host name kept for Host and SNI", async () => {
    const resolve = resolverOf({ "hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"] });
    const vetted = await vetEndpoint("https://hooks.example.com/in?x=1", { ...strict, resolve });
    expect(vetted).toMatchObject({
      hostname: "hooks.example.com",
      address: "93.184.216.34",
      family: 4,
      port: 443,
    });
    expect(vetted.url.pathname + vetted.url.search).toBe("/in?x=1");
  });

  it("resolves on every call, so a changed DNS answer is checked again", async () => {
    const answers = [["93.184.216.34"], ["127.0.0.1"]];
    const resolve: Resolver = async () =>
      (answers.shift() ?? []).map((address) => ({ address, family: 4 }));
    await expect(vetEndpoint("http://rebind.test/", { ...strict, resolve })).resolves.toMatchObject(
      {
        address: "93.184.216.34",
      },
    );
    expect(await refusal("http://rebind.test/", resolve)).toMatch(/loopback/);
  });

  it("allows private addresses when allowPrivateEndpoints is on, still pinning the address", async () => {
    const vetted = await vetEndpoint("http://localhost:9/hook", { allowPrivateEndpoints: true });
    expect(["127.0.0.1", "::1"]).toContain(vetted.address);
    expect(vetted).toMatchObject({ hostname: "localhost", port: 9 });
    await expect(
      vetEndpoint("ftp://localhost/", { allowPrivateEndpoints: true }),
    ).rejects.toMatchObject({ code: "invalid_endpoint" });
  });

  it("uses the system resolver for real names (localhost is loopback)", async () => {
    expect(await refusal("http://localhost/")).toMatch(/loopback/);
  });
});

describe("checkEndpointConfig", () => {
  it("refuses private addresses with a field error, unless allowed", async () => {
    await expect(
      checkEndpointConfig("http://127.0.0.1:1/", false, "/push/url"),
    ).rejects.toMatchObject({
      code: "invalid_endpoint",
      errors: [{ pointer: "/push/url", message: "127.0.0.1 resolves to 127.0.0.1 (loopback)" }],
    });
    await expect(
      checkEndpointConfig("http://127.0.0.1:1/", true, "/push/url"),
    ).resolves.toBeUndefined();
    await expect(checkEndpointConfig("ftp://x/", true, "/push/url")).rejects.toMatchObject({
      code: "invalid_endpoint",
    });
  });

  it("lets a host that does not resolve yet pass (each attempt checks again)", async () => {
    await expect(
      checkEndpointConfig("https://later.test/", false, "/push/url", resolverOf({})),
    ).resolves.toBeUndefined();
  });
});
