import { describe, expect, it } from 'vitest';
import { inSubnet, isNetworkOrBroadcast, networkOf, parseCidr } from '../../../src/lab/ip.js';

describe('parseCidr', () => {
  it.each(['10.10.10.2/24', '0.0.0.0/0', '255.255.255.255/32', '2001:db8::1/64', '::1', 'fe80::1/10', '::ffff:192.0.2.1/128'])('accepts %s', (s) => {
    expect(parseCidr(s)).toBeDefined();
  });
  it.each(['10.10.10.300/24', '10.0.0/24', '10.0.0.1/33', '01.2.3.4', '1.2.3.4/', 'abc', '2001:db8:::1', '1:2:3:4:5:6:7:8:9', '10.0.0.1/2/3'])('rejects %s', (s) => {
    expect(parseCidr(s)).toBeUndefined();
  });
  it('requires a prefix when asked', () => {
    expect(parseCidr('10.0.0.1', true)).toBeUndefined();
    expect(parseCidr('10.0.0.1/8', true)?.prefix).toBe(8);
  });
  it('compares IPv6 numerically', () => {
    expect(parseCidr('2001:db8::1')?.value).toBe(parseCidr('2001:0db8:0:0:0:0:0:1')?.value);
  });
});

describe('subnets', () => {
  const net = parseCidr('10.10.10.1/24')!;
  it('knows membership', () => {
    expect(inSubnet(parseCidr('10.10.10.254')!, net)).toBe(true);
    expect(inSubnet(parseCidr('10.10.20.1')!, net)).toBe(false);
    expect(inSubnet(parseCidr('2001:db8::1')!, net)).toBe(false);
    expect(inSubnet(parseCidr('2001:db8::ff')!, parseCidr('2001:db8::1/64')!)).toBe(true);
  });
  it('computes the network', () => {
    expect(networkOf(net)).toBe('10.10.10.0/24');
  });
  it('spots network and broadcast addresses', () => {
    expect(isNetworkOrBroadcast(parseCidr('10.10.10.0/24')!)).toBe(true);
    expect(isNetworkOrBroadcast(parseCidr('10.10.10.255/24')!)).toBe(true);
    expect(isNetworkOrBroadcast(parseCidr('10.10.10.1/24')!)).toBe(false);
    expect(isNetworkOrBroadcast(parseCidr('10.10.10.0/31')!)).toBe(false);
  });
});
