// A webhook URL is written by a tenant admin, so the platform must not become a way into its own
// network (SSRF): unless allowed, every address the host resolves to must be public. BlockList
// also applies the IPv4 rules to IPv4-mapped IPv6 addresses (::ffff:127.0.0.1).
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const privateRanges = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3],
] as const) privateRanges.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [['::', 127], ['64:ff9b::', 96], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  privateRanges.addSubnet(network, prefix, 'ipv6');
}

export class WebhookTargetError extends Error {
  override readonly name = 'WebhookTargetError';
}

/** Refuses a URL whose host is, or resolves to, a private, loopback or link-local address. */
export const assertPublicTarget = async (url: URL): Promise<void> => {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true });
  for (const { address, family } of addresses) {
    if (privateRanges.check(address, family === 6 ? 'ipv6' : 'ipv4')) {
      throw new WebhookTargetError(`webhook host ${url.hostname} resolves to the non-public address ${address}`);
    }
  }
};
