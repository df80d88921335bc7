// Subnet CIDR allocation for a created VPC. Pure, property-tested in test/unit/infraCidr.test.ts
// (the awsx subnetDistributor idea: keep the arithmetic out of the component).
//
// The VPC block is cut into 2^k equal blocks, the smallest k with 2^k >= 2 × AZs. Public
// subnets take blocks 0..n-1, private subnets blocks n..2n-1, so adding nothing moves nothing:
// the same config always yields the same CIDRs.

export interface SubnetPlan {
  availabilityZone: string;
  publicCidr: string;
  privateCidr: string;
}

/** AWS refuses subnets smaller than /28. */
export const SMALLEST_SUBNET_PREFIX = 28;

export function parseCidr(cidr: string): { base: number; prefix: number } {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) throw new Error(`not an IPv4 CIDR block: ${cidr}`);
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) throw new Error(`not an IPv4 CIDR block: ${cidr}`);
  const address = octets.reduce((acc, octet) => acc * 256 + octet, 0);
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) throw new Error(`${cidr} has host bits set (network address is ${formatCidr(address - (address % size), prefix)})`);
  return { base: address, prefix };
}

export function formatCidr(address: number, prefix: number): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256);
  return `${octets.join(".")}/${prefix}`;
}

/** One public and one private subnet per availability zone, non-overlapping, inside `vpcCidr`. */
export function allocateSubnets(vpcCidr: string, availabilityZones: readonly string[]): SubnetPlan[] {
  if (availabilityZones.length === 0) throw new Error("at least one availability zone is needed");
  const { base, prefix } = parseCidr(vpcCidr);
  const count = availabilityZones.length * 2;
  const extraBits = Math.ceil(Math.log2(count));
  const subnetPrefix = prefix + extraBits;
  if (subnetPrefix > SMALLEST_SUBNET_PREFIX) {
    throw new Error(`${vpcCidr} is too small for ${count} subnets (they would be /${subnetPrefix}; AWS allows at most /${SMALLEST_SUBNET_PREFIX})`);
  }
  const blockSize = 2 ** (32 - subnetPrefix);
  const block = (index: number) => formatCidr(base + index * blockSize, subnetPrefix);
  return availabilityZones.map((availabilityZone, index) => ({
    availabilityZone,
    publicCidr: block(index),
    privateCidr: block(availabilityZones.length + index),
  }));
}
