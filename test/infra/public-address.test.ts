import { classifyAddress } from '../../src/infra/public-address';

describe('which addresses an install may lead the app to (production)', () => {
  it.each([
    ['93.184.216.34', 'a public IPv4 address'],
    ['8.8.8.8', 'a public resolver'],
    ['100.63.255.255', 'the address just below carrier-grade NAT'],
    ['172.32.0.1', 'the address just above 172.16/12'],
    ['2a02:6b8::2:242', 'a public IPv6 address'],
    ['2606:4700:4700::1111', 'another public IPv6 address'],
    ['::ffff:93.184.216.34', 'an IPv4-mapped public address'],
  ])('%s is public (%s)', (address) => {
    expect(classifyAddress(address)).toEqual({ public: true });
  });

  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.10', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.255', /carrier-grade NAT/],
    ['169.254.169.254', /link-local \(cloud metadata\)/],
    ['0.0.0.0', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['255.255.255.255', /reserved/],
    ['192.0.2.1', /documentation/],
    ['198.18.0.1', /benchmarking/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fc00::1', /unique local/],
    ['fd12:3456:789a::1', /unique local/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['ff02::1', /multicast/],
    ['2001:db8::1', /documentation/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:169.254.169.254', /link-local/],
    ['::ffff:10.0.0.1', /private/],
    ['64:ff9b::a00:1', /private/],
    ['2002:c0a8:0101::1', /private/],
    ['::127.0.0.1', /not global unicast/],
    ['not-an-ip', /not an IP address/],
    ['999.1.1.1', /not an IP address/],
  ])('%s is refused as %s', (address, range) => {
    const verdict = classifyAddress(address);
    expect(verdict.public).toBe(false);
    expect(verdict.public === false && verdict.range).toMatch(range);
  });
});
