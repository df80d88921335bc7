// The subnet allocator of a created VPC, property-tested (awsx subnetDistributor style).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateSubnets, formatCidr, parseCidr, SMALLEST_SUBNET_PREFIX } from "../../infra/cidr.js";

const range = (cidr: string) => {
  const { base, prefix } = parseCidr(cidr);
  return { start: base, end: base + 2 ** (32 - prefix) - 1, prefix };
};

/** A VPC CIDR as the schema allows it: /16 to /24, network-aligned. */
const vpcCidr = fc
  .tuple(fc.integer({ min: 16, max: 24 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }))
  .map(([prefix, address]) => formatCidr(address - (address % 2 ** (32 - prefix)), prefix));
const zones = fc.integer({ min: 1, max: 6 }).map((count) => Array.from({ length: count }, (_, i) => `eu-west-1${"abcdef"[i]}`));

describe("allocateSubnets", () => {
  it("gives every AZ one public and one private subnet inside the VPC, none overlapping", () => {
    fc.assert(
      fc.property(vpcCidr, zones, (cidr, azs) => {
        const plan = allocateSubnets(cidr, azs);
        expect(plan.map((zone) => zone.availabilityZone)).toEqual(azs);
        const vpc = range(cidr);
        const subnets = plan.flatMap((zone) => [zone.publicCidr, zone.privateCidr]).map(range);
        for (const subnet of subnets) {
          expect(subnet.start).toBeGreaterThanOrEqual(vpc.start);
          expect(subnet.end).toBeLessThanOrEqual(vpc.end);
          expect(subnet.prefix).toBeLessThanOrEqual(SMALLEST_SUBNET_PREFIX);
        }
        const sorted = [...subnets].sort((a, b) => a.start - b.start);
        for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.start).toBeGreaterThan(sorted[i - 1]!.end);
      }),
      { numRuns: 300 },
    );
  });

  it("uses the largest equal subnets that fit: 2 × AZs rounded up to a power of two", () => {
    fc.assert(
      fc.property(vpcCidr, zones, (cidr, azs) => {
        const plan = allocateSubnets(cidr, azs);
        const expectedPrefix = parseCidr(cidr).prefix + Math.ceil(Math.log2(azs.length * 2));
        for (const zone of plan) expect(parseCidr(zone.publicCidr).prefix).toBe(expectedPrefix);
      }),
    );
  });

  it("is stable: the same config always yields the same CIDRs", () => {
    fc.assert(
      fc.property(vpcCidr, zones, (cidr, azs) => {
        expect(allocateSubnets(cidr, azs)).toEqual(allocateSubnets(cidr, azs));
      }),
    );
  });

  it("matches a worked example", () => {
    expect(allocateSubnets("10.40.0.0/16", ["eu-west-1a", "eu-west-1b"])).toEqual([
      { availabilityZone: "eu-west-1a", publicCidr: "10.40.0.0/18", privateCidr: "10.40.128.0/18" },
      { availabilityZone: "eu-west-1b", publicCidr: "10.40.64.0/18", privateCidr: "10.40.192.0/18" },
    ]);
    expect(allocateSubnets("10.50.0.0/20", ["eu-west-1a", "eu-west-1b", "eu-west-1c"]).map((zone) => zone.privateCidr)).toEqual([
      "10.50.6.0/23",
      "10.50.8.0/23",
      "10.50.10.0/23",
    ]);
  });

  it("refuses a VPC too small for its subnets, misaligned CIDRs and garbage", () => {
    expect(() => allocateSubnets("10.0.0.0/26", ["a", "b", "c"])).toThrow("10.0.0.0/26 is too small for 6 subnets (they would be /29; AWS allows at most /28)");
    expect(() => allocateSubnets("10.0.0.1/16", ["a", "b"])).toThrow("10.0.0.1/16 has host bits set (network address is 10.0.0.0/16)");
    expect(() => allocateSubnets("10.0.0.300/16", ["a", "b"])).toThrow("not an IPv4 CIDR block");
    expect(() => allocateSubnets("10.0.0.0/16", [])).toThrow("at least one availability zone");
  });

  it("round-trips parse and format", () => {
    fc.assert(
      fc.property(vpcCidr, (cidr) => {
        expect(formatCidr(parseCidr(cidr).base, parseCidr(cidr).prefix)).toBe(cidr);
      }),
    );
  });
});
